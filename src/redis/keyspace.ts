/** Deletion primitives shared by the executor and the scheduled jobs. */
import type { RedisPort } from './port';

export interface Chunking {
  readonly scanCount: number;
  readonly unlinkBatch: number;
}

/** UNLINK in chunks of at most `unlinkBatch` keys; resolves to the count removed. */
export async function unlinkAll(
  port: RedisPort,
  keys: readonly string[],
  chunking: Chunking,
): Promise<number> {
  // All chunks at once: the client pipelines them on its connection (one round trip, not one
  // per chunk); each UNLINK stays small enough not to block Redis.
  const chunks: Promise<number>[] = [];
  for (let i = 0; i < keys.length; i += chunking.unlinkBatch) {
    chunks.push(port.unlink(keys.slice(i, i + chunking.unlinkBatch)));
  }
  const removed = await Promise.all(chunks);
  return removed.reduce((a, b) => a + b, 0);
}

/** Paces SCAN steps (walk-budget.ts). */
export interface StepBudget {
  step<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Deletes every key matching any of the globs, walking the keyspace with SCAN on every node
 * (never KEYS). SCAN visits the whole keyspace whatever its MATCH, so several patterns share one
 * walk: MATCH narrows to their common literal prefix and the keys are tested against each glob
 * here.
 */
export async function deleteMatching(
  port: RedisPort,
  patterns: readonly string[],
  chunking: Chunking,
  budget?: StepBudget,
): Promise<number> {
  if (patterns.length === 0) return 0;
  const step = budget
    ? <T>(fn: () => Promise<T>) => budget.step(fn)
    : <T>(fn: () => Promise<T>) => fn();
  const only = patterns.length === 1 ? patterns[0] : undefined;
  const match = only ?? `${escapeLiteral(commonPrefix(patterns.map(literalPrefix)))}*`;
  const tests = only === undefined ? patterns.map(globToRegExp) : [];
  let removed = 0;
  for (const node of port.scanNodes()) {
    let cursor = '0';
    do {
      const [next, found] = await step(() => node.scan(cursor, match, chunking.scanCount));
      cursor = next;
      const doomed = only === undefined ? found.filter((k) => tests.some((t) => t.test(k))) : found;
      if (doomed.length > 0) removed += await unlinkAll(port, doomed, chunking);
    } while (cursor !== '0');
  }
  return removed;
}

/** The text a glob starts with before its first wildcard, escapes resolved. */
export function literalPrefix(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) out += glob[++i];
    else if (c === '*' || c === '?' || c === '[') return out;
    else out += c;
  }
  return out;
}

function commonPrefix(texts: readonly string[]): string {
  let prefix = texts[0] ?? '';
  for (const t of texts) while (!t.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function escapeLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Redis glob (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`) → an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) re += escapeRegExp(glob[++i] as string);
    else if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        const negate = body.startsWith('^');
        if (negate) body = body.slice(1);
        re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, (x) => `\\${x}`)}]`;
        i = close;
      }
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, (x) => `\\${x}`);
}

/**
 * The `notify-keyspace-events` classes a keyspace index needs to see every key made or changed:
 * `K` (keyspace channels), `g` (RENAME, COPY, RESTORE, MOVE, EXPIRE…), and every value type:
 * `$` strings, `l` lists, `s` sets, `h` hashes, `z` sorted sets, `t` streams. `A` stands for all
 * of them. `x` and `e` (expired, evicted) only let the index forget; recommended, not needed.
 */
const NEEDED_CLASSES = ['g', '$', 'l', 's', 'h', 'z', 't'] as const;

/** The flags missing from a `notify-keyspace-events` value, or undefined when none is. */
export function missingNotifyFlags(current: string): string | undefined {
  const all = current.includes('A');
  const missing = `${current.includes('K') ? '' : 'K'}${
    all ? '' : NEEDED_CLASSES.filter((c) => !current.includes(c)).join('')
  }`;
  return missing === '' ? undefined : missing;
}

/** The value Redis reports; a refused or unknown CONFIG GET throws. */
export async function readNotifyFlags(client: {
  config(op: 'GET', name: string): Promise<unknown>;
}): Promise<string> {
  const reply = await client.config('GET', 'notify-keyspace-events');
  if (!Array.isArray(reply) || typeof reply[1] !== 'string')
    throw new Error('CONFIG GET notify-keyspace-events gave no value');
  return reply[1];
}

/**
 * Why a notification feed cannot be trusted right now, or undefined when it is whole: flags
 * missing, or the setting unreadable (a feed nobody can check is not trusted either).
 */
export async function notifyFeedProblem(client: {
  config(op: 'GET', name: string): Promise<unknown>;
}): Promise<string | undefined> {
  let current: string;
  try {
    current = await readNotifyFlags(client);
  } catch (err) {
    return `notify-keyspace-events unreadable (${err instanceof Error ? err.message : String(err)}): grant +config|get`;
  }
  const missing = missingNotifyFlags(current);
  return missing === undefined
    ? undefined
    : `notify-keyspace-events "${current}" lacks ${missing} (set KA, or Kg$lshztxe)`;
}
