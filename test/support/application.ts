/**
 * A small MIS application for tests: the spec's cache-aside reader. GET the key; on a miss build
 * the value from MySQL exactly as the application does (src/consistency/truth.ts — the same code
 * `verify` judges by) and SET it as JSON with the family's TTL. A key the application would not
 * cache (a disabled user's session) is left unset.
 */
import type Redis from 'ioredis';
import type { Config } from '../../src/config/config';
import type { Family } from '../../src/core/families';
import type { CacheTruth } from '../../src/consistency/truth';

export interface FillLog {
  readonly at: number;
  readonly key: string;
  readonly value: string;
}

export class Application {
  /** Every SET the readers did (for failure reports). */
  readonly fills: FillLog[] = [];

  constructor(
    private readonly truth: CacheTruth,
    private readonly db: (family: Family) => Redis,
    private readonly ttl: Config['redis']['ttl'],
    /** Pause between reading MySQL and writing the value back (the stale-set window). */
    private readonly pause: () => number = () => 0,
  ) {}

  /** One cache-aside read: a hit returns the cached text; a miss builds, SETs and returns it. */
  async read(family: Family, key: string): Promise<string | null> {
    const client = this.db(family);
    const cached = await client.get(key);
    if (cached !== null) return cached;
    const text = await this.build(family, key);
    if (text === null) return null;
    const wait = this.pause();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.store(family, key, text);
  }

  /**
   * The stale-set race, made to happen: a slow reader builds the value from MySQL, then `during`
   * runs (a change of the row and the service's delete of the key), and only then does the reader
   * SET what it built — the interleaving the service's second pass exists for.
   */
  async readAround(family: Family, key: string, during: () => Promise<void>): Promise<void> {
    const text = await this.build(family, key);
    await during();
    if (text !== null) await this.store(family, key, text);
  }

  private async build(family: Family, key: string): Promise<string | null> {
    const truth = await this.truth.of(family, key);
    if (truth.kind !== 'value') return null;
    const value =
      family === 'session'
        ? { ...(truth.value as object), last_activity: new Date().toISOString() }
        : truth.value;
    return JSON.stringify(value);
  }

  private async store(family: Family, key: string, text: string): Promise<string> {
    await this.db(family).set(key, text, 'EX', this.ttl[family]);
    this.fills.push({ at: Date.now(), key, value: text });
    return text;
  }
}
