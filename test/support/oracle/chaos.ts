/**
 * A chaos run: the oracle's workload against real service processes (on one Kafka client), a
 * seeded nemesis between its writes, a history file, and the checker after every fault healed.
 * The service reaches Redis through a latency proxy (the slow-Redis fault); the readers, the
 * nemesis's admin client and the checker go to Redis directly.
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { RuleSet } from '../../../src/rules/registry';
import { oracleConfig, oracleEnv } from '../oracle-run';
import { redisDb, stackEnv, waitCaughtUp } from '../stack';
import { Fleet } from './fleet';
import { History } from './history';
import { LatencyProxy } from './latency-proxy';
import {
  describeSchedule,
  FAULT_KINDS,
  Nemesis,
  planSchedule,
  type FaultKind,
  type PlannedFault,
} from './nemesis';
import { oracleOptions, type OracleOptions } from './options';
import { runWorkload, type OracleResult } from './run';
import { addForeignKeys } from './workload';

export type KafkaClient = 'kafkajs' | 'platformatic';

export interface ChaosOptions {
  readonly client: KafkaClient;
  /** Faults in the schedule (CHAOS_FAULTS). */
  readonly faults: number;
  /** The kinds the schedule draws from (CHAOS_KINDS, comma-separated; default: every kind this stack can run). */
  readonly kinds: readonly FaultKind[];
  /** The workload's options; their seed is the schedule's seed too. */
  readonly oracle: OracleOptions;
}

/** The Sentinel fault needs Redis behind Sentinel for the service, the readers and the checker. */
export const SENTINEL_STACK = process.env.CHAOS_REDIS === 'sentinel';

export function chaosKinds(): FaultKind[] {
  const asked = process.env.CHAOS_KINDS?.split(',').filter((k) => k !== '');
  const kinds = (asked ??
    FAULT_KINDS.filter((k) => k !== 'sentinel' || SENTINEL_STACK)) as FaultKind[];
  for (const k of kinds) {
    if (!FAULT_KINDS.includes(k))
      throw new Error(`CHAOS_KINDS: unknown fault kind '${k}' (${FAULT_KINDS.join(', ')})`);
    if (k === 'sentinel' && !SENTINEL_STACK)
      throw new Error(
        `CHAOS_KINDS: 'sentinel' needs CHAOS_REDIS=sentinel (this stack's Redis is a single node)`,
      );
  }
  return kinds;
}

/** The chaos sizes: smaller than the plain oracle's (every fault costs seconds of recovery). */
export function chaosOptions(
  client: KafkaClient,
  seed: number,
  defaults: { writes: number; faults: number; targeted: number },
): ChaosOptions {
  const env = process.env;
  const base = oracleOptions(defaults.writes);
  return {
    client,
    faults: Number(env.CHAOS_FAULTS ?? defaults.faults),
    kinds: chaosKinds(),
    oracle: { ...base, seed, targeted: Number(env.ORACLE_TARGETED ?? defaults.targeted) },
  };
}

export interface ChaosResult {
  readonly options: ChaosOptions;
  readonly plan: readonly PlannedFault[];
  readonly oracle: OracleResult;
  readonly history: History;
  /** Faults that could not start or heal (the run is not judged on them: reported). */
  readonly nemesisErrors: readonly string[];
  /** Service processes started, restarts included. */
  readonly serviceStarts: number;
  readonly historyFile: string;
}

export async function runChaos(
  db: ConnectionPool,
  rules: RuleSet,
  options: ChaosOptions,
): Promise<ChaosResult> {
  const { client, oracle: opts } = options;
  const plan = planSchedule(opts.seed, opts.writes, options.kinds, options.faults);
  const schedule = describeSchedule(plan);
  const replay = `seed ${opts.seed}, client ${client} (replay: CHAOS_SEED=${opts.seed} CHAOS_CLIENTS=${client} ORACLE_WRITES=${opts.writes} CHAOS_FAULTS=${options.faults}${process.env.CHAOS_KINDS ? ` CHAOS_KINDS=${process.env.CHAOS_KINDS}` : ''} npm run test:chaos)`;
  const history = new History({
    seed: opts.seed,
    client,
    schedule,
    writes: opts.writes,
    kinds: options.kinds,
  });
  const redisUrl = new URL(stackEnv('REDIS_URL'));
  const proxy = await LatencyProxy.start(redisUrl.hostname, Number(redisUrl.port || 6379));
  let admin: Redis | undefined;
  const fleet = new Fleet(
    serviceEnv(client, `redis://${redisUrl.hostname}:${proxy.port}`),
    history,
  );
  const nemesis = new Nemesis(plan, {
    fleet,
    proxy,
    admin: () => (admin ??= redisDb(15)),
    sentinel: SENTINEL_STACK,
    history,
  });
  console.log(`CHAOS ${client} seed ${opts.seed}: schedule ${schedule}`);
  try {
    // the service reads the foreign-key graph at start: the run's keys exist before it does
    if (opts.fkCascades) await addForeignKeys(db);
    await fleet.startPrimary();
    const topics = rules.tables.map(
      (t) => `${stackEnv('TOPIC_PREFIX')}.${process.env.MYSQL_DATABASE ?? 'mis'}.${t}`,
    );
    await waitCaughtUp(fleet.group, topics, 600_000);
    const config = oracleConfig({ MCS_GROUP_ID: fleet.group });
    const result = await runWorkload({
      db,
      config,
      rules,
      opts,
      hooks: {
        history,
        beforeWrite: (seq) => nemesis.beforeWrite(seq),
        afterWrites: () => nemesis.finish(),
        groupId: () => fleet.group,
        replay,
        schedule,
      },
    });
    return {
      options,
      plan,
      oracle: result,
      history,
      nemesisErrors: nemesis.errors,
      serviceStarts: fleet.starts,
      historyFile: history.save(`${opts.seed}-${client}`),
    };
  } catch (err) {
    history.save(`${opts.seed}-${client}`);
    throw new Error(
      `${(err as Error).message}\n${replay}\nschedule: ${schedule}\nservice output:\n${fleet.tails()}`,
    );
  } finally {
    await nemesis.finish().catch(() => undefined); // a run cut short still heals what it broke
    await fleet.stopAll();
    await proxy.close();
    await admin?.quit();
  }
}

/** The service as the oracle runs it (oracleConfig's DBs and second pass), through the proxy. */
function serviceEnv(client: KafkaClient, redisUrl: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    MCS_KAFKA_CLIENT: client,
    ...oracleEnv(),
    MCS_SESSION_TIMEOUT_MS: '6000', // a SIGKILLed member's partitions move on within seconds
    MCS_RETRY_MAX_DELAY_MS: '1000',
    // settings of the service under test on top (a replay with a setting changed, a sabotage)
    ...(JSON.parse(process.env.CHAOS_SERVICE_ENV ?? '{}') as Record<string, string>),
  };
}

/** One line per run: the figures the docs' table is made of. */
export function reportChaos(r: ChaosResult): string {
  const o = r.oracle;
  const kinds = countBy(r.plan.map((f) => f.kind));
  return (
    `CHAOS ${r.options.client} seed ${r.options.oracle.seed}: ${o.writes} writes (${o.failedWrites} refused), ` +
    `faults ${JSON.stringify(kinds)} [${describeSchedule(r.plan)}], ${r.serviceStarts} service starts, ` +
    `${o.reads} reads (${o.readErrors} failed, ${o.fills} fills); checked ${o.report.checked}, ` +
    `consistent ${o.report.consistent}, diverging ${o.report.stale} (+${o.transient} late, not counted), ` +
    `unknown ${o.report.unknown}; writing ${(o.ms.writing / 1000).toFixed(1)} s, settling ` +
    `${(o.ms.settling / 1000).toFixed(1)} s${r.nemesisErrors.length > 0 ? `; nemesis errors: ${r.nemesisErrors.join('; ')}` : ''}; history ${r.historyFile}` +
    (o.failure ? `\n${o.failure}` : '')
  );
}

/** Figures per fault kind over many runs: faults, writes made during them, runs, runs diverging. */
export function summarizeChaos(results: readonly ChaosResult[]): string {
  const rows = new Map<
    string,
    { faults: number; writes: number; runs: number; diverging: number; keys: number }
  >();
  for (const r of results) {
    for (const kind of new Set(r.plan.map((f) => f.kind))) {
      const row = rows.get(kind) ?? { faults: 0, writes: 0, runs: 0, diverging: 0, keys: 0 };
      row.faults += r.plan.filter((f) => f.kind === kind).length;
      row.writes += r.history.writesDuring(kind);
      row.runs += 1;
      row.keys += r.oracle.report.checked;
      if (r.oracle.report.stale > 0) row.diverging += 1;
      rows.set(kind, row);
    }
  }
  const lines = [...rows.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, v]) =>
        `  ${k}: ${v.faults} faults, ${v.writes} writes during them, in ${v.runs} runs (${v.keys} keys checked), ${v.diverging} runs diverging`,
    );
  const total = results.reduce(
    (t, r) => ({
      writes: t.writes + r.oracle.writes,
      keys: t.keys + r.oracle.report.checked,
      diverging: t.diverging + r.oracle.report.stale,
      failed: t.failed + (r.oracle.report.stale > 0 ? 1 : 0),
    }),
    { writes: 0, keys: 0, diverging: 0, failed: 0 },
  );
  return [
    `CHAOS SUMMARY: ${results.length} runs, ${total.writes} writes, ${total.keys} keys checked, ${total.diverging} diverging keys in ${total.failed} runs`,
    ...lines,
  ].join('\n');
}

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}
