/**
 * The JSON converter with schemas on sends `{"schema":<S>,"payload":<P>}` where <S>, about 2/3 of
 * the bytes, is the same text for every event of a table until its DDL changes. This cache keeps,
 * per topic, the bytes `{"schema":<S>,"payload":` of the last wrapped value and the parsed <S>.
 * A value that starts with exactly those bytes and ends with `}` is decoded by parsing <P> alone.
 *
 * Why this is exact: the bytes compared are the whole wrapper head, so the schema is the one
 * parsed before; what lies between the head and the final `}` is valid JSON only when it is the
 * payload and nothing else (`<P>,"k":<V>` never parses), and a failed parse falls back to the full
 * parse. A DDL change (another schema text) is a miss: the full parse runs and the entry is
 * replaced.
 */

const HEAD = Buffer.from('{"schema":');
const SEPARATOR = Buffer.from(',"payload":');
const CLOSE_BRACE = 0x7d;
/** Topics remembered at most (each entry holds one schema). */
const MAX_TOPICS = 256;

interface Entry {
  /** `{"schema":<S>,"payload":` as bytes. */
  readonly head: Buffer;
  readonly schema: unknown;
}

export interface WrapperHit {
  readonly schema: unknown;
  /** The payload's JSON text. */
  readonly payloadText: string;
}

export class WrapperCache {
  private readonly byTopic = new Map<string, Entry>();

  /** The cached schema and the payload's text, when `value` carries the topic's known wrapper. */
  lookup(topic: string, value: Buffer): WrapperHit | undefined {
    const entry = this.byTopic.get(topic);
    if (!entry) return undefined;
    const { head } = entry;
    if (value.length <= head.length + 1 || value[value.length - 1] !== CLOSE_BRACE)
      return undefined;
    if (value.compare(head, 0, head.length, 0, head.length) !== 0) return undefined;
    return {
      schema: entry.schema,
      payloadText: value.toString('utf8', head.length, value.length - 1),
    };
  }

  /** After a full parse of a wrapped value: remember its wrapper head and parsed schema. */
  learn(topic: string, value: Buffer, schema: unknown): void {
    if (value.length < HEAD.length || value.compare(HEAD, 0, HEAD.length, 0, HEAD.length) !== 0)
      return;
    const end = endOfJsonValue(value, HEAD.length);
    if (end < 0) return;
    if (value.compare(SEPARATOR, 0, SEPARATOR.length, end, end + SEPARATOR.length) !== 0) return;
    if (!this.byTopic.has(topic) && this.byTopic.size >= MAX_TOPICS) this.byTopic.clear();
    // A copy: the record's buffer may be a slice of a larger fetch buffer.
    this.byTopic.set(topic, {
      head: Buffer.from(value.subarray(0, end + SEPARATOR.length)),
      schema,
    });
  }

  clear(): void {
    this.byTopic.clear();
  }
}

/**
 * Index just past the JSON object or array starting at `start` (quotes and escapes respected),
 * or -1. Multi-byte UTF-8 sequences never contain the ASCII bytes looked at.
 */
export function endOfJsonValue(bytes: Buffer, start: number): number {
  const open = bytes[start];
  if (open !== 0x7b && open !== 0x5b) return -1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
