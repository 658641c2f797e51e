/**
 * What the benches share: where results go, the Redis DBs the service writes during a bench, the
 * produce loop that fills the bench topics, and the process wrapper.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Producer } from 'kafkajs';

/** The repository (benches run compiled from .stack/bench-build/bench or .stack/bench-replay/bench). */
export const REPO = path.resolve(__dirname, '..', '..', '..');

/**
 * Appends `result` to bench/results/<date>-<name>.json (one file per day, a list of runs; a file
 * holding a single run becomes a list). Returns the file's path relative to the repository.
 */
export function appendResult(name: string, isoDate: string, result: unknown): string {
  const dir = path.join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${isoDate.slice(0, 10)}-${name}.json`);
  let runs: unknown[] = [];
  if (existsSync(file)) {
    const previous = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    runs = Array.isArray(previous) ? previous : [previous];
  }
  writeFileSync(file, `${JSON.stringify([...runs, result], null, 2)}\n`);
  return path.relative(REPO, file);
}

/** The service's Redis DB settings for a bench: its own DBs, master and stats in the permissions DB. */
export function benchRedisDbs(db: {
  session: number;
  permissions: number;
  temp: number;
}): Record<string, string> {
  return {
    MCS_REDIS_CLUSTER: 'false',
    MCS_REDIS_DB_SESSION: String(db.session),
    MCS_REDIS_DB_PERMISSIONS: String(db.permissions),
    MCS_REDIS_DB_MASTER: String(db.permissions),
    MCS_REDIS_DB_STATS: String(db.permissions),
    MCS_REDIS_DB_TEMP: String(db.temp),
  };
}

type Message = { key: Buffer; value: Buffer; headers: Record<string, string> };

/** Collects messages per topic and sends them with `sendBatch` (acks=all) every `maxBytes`. */
export class TopicBatcher {
  private pending: Record<string, Message[]> = {};
  private pendingBytes = 0;
  /** Key and value bytes pushed so far. */
  bytes = 0;

  constructor(
    private readonly producer: Producer,
    private readonly maxBytes: number,
  ) {}

  async push(topic: string, message: Message): Promise<void> {
    (this.pending[topic] ??= []).push(message);
    const size = message.key.length + message.value.length;
    this.bytes += size;
    this.pendingBytes += size;
    if (this.pendingBytes > this.maxBytes) await this.flush();
  }

  async flush(): Promise<void> {
    const topicMessages = Object.entries(this.pending).map(([topic, messages]) => ({
      topic,
      messages,
    }));
    this.pending = {};
    this.pendingBytes = 0;
    if (topicMessages.length > 0) await this.producer.sendBatch({ topicMessages, acks: -1 });
  }
}

/** Runs the bench's main: exit 0 when it resolves, 1 with the error printed when it fails. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
