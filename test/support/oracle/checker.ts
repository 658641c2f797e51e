/**
 * The checker: once the writer has stopped, every fault has healed and the service has settled
 * (its group caught up with every change topic, no second pass pending), every cached key of
 * every family must equal the truth (`verify`, src/consistency/truth.ts) or be absent. A key
 * found diverging is judged again after a pause, so a late delete is not reported as lost; the
 * failure names the seed, the schedule, the first diverging key, the writes that touched it and
 * the faults active at each.
 */
import type Redis from 'ioredis';
import type { Config } from '../../../src/config/config';
import { FAMILIES } from '../../../src/core/families';
import { verify, type VerifyDeps, type VerifyReport } from '../../../src/consistency/verify';
import { SECOND_PASS_KEY } from '../../../src/keys/second-pass';
import { planEvent } from '../../../src/rules/plan';
import type { RuleSet } from '../../../src/rules/registry';
import type { FillLog } from '../application';
import { waitCaughtUp, waitFor } from '../stack';
import type { History } from './history';
import { PLAN_OPTIONS } from './workload';

/** The service has applied every change and every pending second pass has run. */
export async function settle(
  config: Config,
  rules: RuleSet,
  groupId: string,
  temp: Redis,
): Promise<void> {
  const topics = rules.tables.map(
    (t) => `${config.kafka.topicPrefix}.${config.kafka.database}.${t}`,
  );
  await waitCaughtUp(groupId, topics, 600_000);
  if (config.redis.secondPassDelayMs > 0) {
    await waitFor(
      async () => (await temp.zcard(SECOND_PASS_KEY)) === 0,
      120_000,
      'second passes',
      100,
    );
  }
}

export interface CheckResult {
  readonly report: VerifyReport;
  /** Keys diverging at the first look that were right at the second (a late delete). */
  readonly transient: number;
}

/** `verify` over every family; diverging keys are confirmed by a second look after `pauseMs`. */
export async function check(deps: VerifyDeps, pauseMs: number): Promise<CheckResult> {
  const options = { sample: 10_000_000, families: [...FAMILIES].filter((f) => f !== 'temp') };
  const first = await verify(deps, options);
  if (first.stale === 0) return { report: first, transient: 0 };
  await new Promise((r) => setTimeout(r, pauseMs));
  const second = await verify(deps, options);
  const seen = new Set(first.staleKeys.map((s) => `${s.db}/${s.key}`));
  const confirmed = second.staleKeys.filter((s) => seen.has(`${s.db}/${s.key}`));
  const transient = first.stale - confirmed.length;
  return {
    report: { ...second, stale: confirmed.length, staleKeys: confirmed },
    transient,
  };
}

export interface FailureContext {
  /** How to run this again (seed and sizes). */
  readonly replay: string;
  /** The fault schedule, or '' for a run without faults. */
  readonly schedule: string;
  readonly history: History;
  readonly fills: readonly FillLog[];
  readonly rules: RuleSet;
}

export function explainFailure(report: VerifyReport, ctx: FailureContext): string {
  const first = report.staleKeys[0];
  if (!first) return '';
  const { history, rules } = ctx;
  const touching: string[] = [];
  for (const w of history.writes) {
    const rule = rules.get(w.table);
    if (!rule) continue;
    let ops;
    try {
      ops = planEvent(
        { op: w.op, before: w.before, after: w.after, source: {} },
        rule,
        PLAN_OPTIONS,
      );
    } catch {
      continue;
    }
    if (
      ops.some((o) =>
        o.action === 'pattern-delete' ? globRe(o.key).test(first.key) : o.key === first.key,
      )
    ) {
      // `kind`: the write was made while the fault was in place; `kind+Ns`: N s after its heal
      const faults = history
        .activeAt(w.at)
        .map((f) =>
          f.healed === 0 || w.at <= f.healed
            ? f.kind
            : `${f.kind}+${Math.ceil((w.at - f.healed) / 1000)}s`,
        );
      touching.push(
        `  #${w.seq} ${new Date(w.at).toISOString()} ${w.table} ${w.op}${faults.length > 0 ? ` [during ${faults.join(', ')}]` : ''} before=${JSON.stringify(w.before)} after=${JSON.stringify(w.after)}`,
      );
    }
  }
  const fills = ctx.fills
    .filter((f) => f.key === first.key)
    .sort((a, b) => a.at - b.at)
    .map((f) => `  fill ${new Date(f.at).toISOString()} ${f.value.slice(0, 200)}`);
  const faults = history.faults.map(
    (f) =>
      `  ${f.kind} writes #${f.startSeq}-#${f.healSeq}: ${iso(f.began)} → ${iso(f.healed)} (${f.detail})`,
  );
  return [
    `ORACLE FAILED: ${ctx.replay}; ${report.stale} diverging key(s)`,
    ...(ctx.schedule ? [`schedule: ${ctx.schedule}`, ...faults] : []),
    `first diverging key: DB ${first.db} ${first.key}: ${first.why}`,
    `writes that touched it (${touching.length}, last 20):`,
    ...touching.slice(-20),
    `reader fills of it (${fills.length}, last 10):`,
    ...fills.slice(-10),
    `other diverging keys: ${report.staleKeys
      .slice(1, 20)
      .map((s) => s.key)
      .join(', ')}`,
  ].join('\n');
}

const iso = (ms: number): string => (ms === 0 ? '-' : new Date(ms).toISOString().slice(11, 23));

/** Redis glob (only `*` and `\` escapes occur in planned patterns) → RegExp. */
function globRe(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    const lit = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (c === '\\') re += lit(glob[++i] ?? '');
    else re += c === '*' ? '.*' : lit(c);
  }
  return new RegExp(`^${re}$`);
}
