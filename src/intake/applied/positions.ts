/**
 * Source positions a writer can name after its commit, made comparable. A position lives in a
 * stream (`domain`) and carries a `rank`, a fixed-width string whose byte order is the stream's
 * order, so Redis (Lua string comparison) and TypeScript compare them alike:
 *
 * - MariaDB GTID `domain-server-seq`: stream `gtid:<domain>`, ranked by seq (the server id does
 *   not order transactions; within a domain the seq does).
 * - MySQL GTID `uuid:seq`: stream `gtid:<uuid>`, ranked by seq.
 * - binlog `file:pos` (GTIDs off): stream `binlog`, ranked by the file's index, then pos.
 */
export interface SourcePosition {
  readonly kind: 'gtid' | 'binlog';
  /** As given (a GTID is also Debezium's transaction id). */
  readonly text: string;
  readonly stream: string;
  readonly rank: string;
}

const SEQ_WIDTH = 20;

function pad(n: string | number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** A GTID, or undefined when the text is not one. */
export function parseGtid(text: string): SourcePosition | undefined {
  const t = text.trim();
  const maria = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/.exec(t);
  if (maria?.[1] && maria[3]) {
    return {
      kind: 'gtid',
      text: t,
      stream: `gtid:${Number(maria[1])}`,
      rank: pad(BigInt(maria[3]), SEQ_WIDTH),
    };
  }
  const mysql = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(\d{1,20})$/i.exec(
    t,
  );
  if (mysql?.[1] && mysql[2]) {
    return {
      kind: 'gtid',
      text: t,
      stream: `gtid:${mysql[1].toLowerCase()}`,
      rank: pad(BigInt(mysql[2]), SEQ_WIDTH),
    };
  }
  return undefined;
}

/** `mysql-bin.000012:4711` (file, then byte position), or undefined. */
export function parseBinlog(text: string): SourcePosition | undefined {
  const m = /^(.*?)(\d+):(\d{1,20})$/.exec(text.trim());
  if (!m?.[2] || !m[3]) return undefined;
  return binlogPosition(`${m[1] ?? ''}${m[2]}`, Number(m[3]));
}

/** The binlog position of a source block (`file`, `pos`), or undefined without them. */
export function binlogPosition(
  file: string | undefined,
  pos: number | undefined,
): SourcePosition | undefined {
  if (file === undefined || pos === undefined || !Number.isSafeInteger(pos) || pos < 0)
    return undefined;
  const index = /(\d+)$/.exec(file)?.[1];
  if (index === undefined) return undefined;
  return {
    kind: 'binlog',
    text: `${file}:${pos}`,
    stream: 'binlog',
    rank: `${pad(BigInt(index), SEQ_WIDTH)}:${pad(pos, SEQ_WIDTH)}`,
  };
}

/** Negative, 0 or positive like a comparator; undefined across streams (no order between them). */
export function comparePositions(a: SourcePosition, b: SourcePosition): number | undefined {
  if (a.stream !== b.stream) return undefined;
  return a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0;
}
