/**
 * One question, asked by `wait-applied` and by `GET /applied`: a GTID or a binlog position, and
 * how long to wait. Usage problems are answered as such (exit 2, HTTP 400), never as a timeout.
 */
import type { AppliedAnswer, AppliedMarks } from './marks';
import { parseBinlog, parseGtid, type SourcePosition } from './positions';

export interface AppliedQuery {
  readonly position: SourcePosition;
  readonly waitMs: number;
}

/** Longest wait a caller may ask for (a request is not meant to hang for minutes). */
export const MAX_WAIT_MS = 300_000;

export class AppliedUsageError extends Error {}

/** `500ms`, `2s`, `1m` or a plain count of milliseconds. */
export function parseDuration(text: string, label: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m?.[1])
    throw new AppliedUsageError(`${label} "${text}" is not a duration like 500ms, 2s or 1m`);
  const unit = m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1;
  const ms = Math.round(Number(m[1]) * unit);
  if (ms > MAX_WAIT_MS)
    throw new AppliedUsageError(`${label} ${text} exceeds ${MAX_WAIT_MS / 1000}s`);
  return ms;
}

export function parseAppliedQuery(q: {
  readonly gtid?: string | undefined;
  readonly binlog?: string | undefined;
  readonly wait?: string | undefined;
  readonly waitLabel?: string;
}): AppliedQuery {
  const { gtid, binlog } = q;
  if ((gtid === undefined) === (binlog === undefined))
    throw new AppliedUsageError('give exactly one of gtid or binlog');
  const position = gtid !== undefined ? parseGtid(gtid) : parseBinlog(binlog ?? '');
  if (!position) {
    throw new AppliedUsageError(
      gtid !== undefined
        ? `gtid "${gtid}" is neither domain-server-seq (MariaDB) nor uuid:seq (MySQL)`
        : `binlog "${binlog}" is not <file>:<pos> (e.g. mysql-bin.000012:4711)`,
    );
  }
  const waitMs = q.wait === undefined ? 0 : parseDuration(q.wait, q.waitLabel ?? 'wait');
  return { position, waitMs };
}

export interface AppliedReply {
  readonly applied: boolean;
  readonly status: AppliedAnswer;
  readonly position: string;
  readonly waitedMs: number;
}

export async function answerApplied(marks: AppliedMarks, q: AppliedQuery): Promise<AppliedReply> {
  const started = Date.now();
  const status = await marks.wait(q.position, q.waitMs);
  return {
    applied: status === 'applied',
    status,
    position: q.position.text,
    waitedMs: Date.now() - started,
  };
}

/** The `/applied` route's work: 200 with the reply, 400 with the usage error. */
export function appliedRoute(
  marks: AppliedMarks,
): (params: URLSearchParams) => Promise<{ status: number; body: unknown }> {
  return async (params) => {
    let q: AppliedQuery;
    try {
      q = parseAppliedQuery({
        gtid: params.get('gtid') ?? undefined,
        binlog: params.get('binlog') ?? undefined,
        wait: params.get('wait') ?? undefined,
      });
    } catch (err) {
      if (err instanceof AppliedUsageError) return { status: 400, body: { error: err.message } };
      throw err;
    }
    return { status: 200, body: await answerApplied(marks, q) };
  };
}
