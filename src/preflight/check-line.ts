/** The types of `mis-cache-sync check` (check.ts): a line, a group of checks, its context. */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import type { RedisClients } from '../redis/clients';
import type { RuleSet } from '../rules/registry';

export interface CheckLine {
  /** true ✓, false ✗ (exit 1), 'warn' ! (does not fail). */
  readonly ok: boolean | 'warn';
  readonly name: string;
  readonly detail?: string;
  /** What to do about a ✗ (or a !). */
  readonly fix?: string;
}

/** Rejects when the promise has not settled within `ms` (the timer does not hold the process). */
export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms).unref(),
    ),
  ]);

export interface CheckContext {
  readonly config: Config;
  readonly rules: RuleSet;
  /** Opened lazily by the caller; each group uses what it needs. */
  readonly kafka: () => Kafka;
  readonly redis: () => RedisClients;
}

export interface CheckGroup {
  readonly name: string;
  run(ctx: CheckContext): Promise<CheckLine[]>;
}
