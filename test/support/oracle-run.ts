/** The oracle's stack, service settings and one-line report (CI and soak sizes alike). */
import type { ConnectionPool } from '@databases/mysql';
import type { RunningService } from '../../src/app/service';
import type { Config } from '../../src/config/config';
import { useStack } from './harness';
import {
  addForeignKeys,
  dropForeignKeys,
  oracleOptions,
  type OracleOptions,
  type OracleResult,
} from './oracle';
import { testConfig } from './stack';

/**
 * The service as docs/reliability.md recommends it (second pass on at its default delay, refresh off),
 * in logical DBs of the oracle's own: session 4, permissions/master/stats 5, temp 6.
 */
export function oracleConfig(overrides: Record<string, string> = {}): Config {
  return testConfig({ ...oracleEnv(), ...overrides });
}

/** The settings behind oracleConfig, also given to the chaos run's service processes. */
export function oracleEnv(): Record<string, string> {
  return {
    MCS_REDIS_DB_SESSION: '4',
    MCS_REDIS_DB_PERMISSIONS: '5',
    MCS_REDIS_DB_MASTER: '5',
    MCS_REDIS_DB_STATS: '5',
    MCS_REDIS_DB_TEMP: '6',
    MCS_DAILY_STATS_CRON: '',
    MCS_SECOND_PASS_DELAY_MS: process.env.ORACLE_SECOND_PASS_MS ?? '1000', // 0: shows the stale-set race
  };
}

/**
 * The oracle's block on the real stack: the pool, the foreign keys (added before the service
 * starts: it reads the foreign-key graph once, at start), the service with `oracleConfig()`;
 * all undone after the block's tests.
 */
export function useOracleStack(): {
  readonly db: ConnectionPool;
  readonly config: Config;
  service(): RunningService;
} {
  const stack = useStack();
  const { db } = stack;
  const config = oracleConfig();
  let service: RunningService | undefined;
  beforeAll(async () => {
    if (oracleOptions(0).fkCascades) await addForeignKeys(db);
    service = await stack.startService(config);
  });
  stack.cleanup(() => dropForeignKeys(db));
  return {
    db,
    config,
    service() {
      if (!service) throw new Error('the oracle service did not start');
      return service;
    },
  };
}

export function reportOracle(label: string, opts: OracleOptions, r: OracleResult): void {
  const line =
    `${label}: seed ${opts.seed}, ${r.writes} writes (${r.failedWrites} refused), truncate of ${r.truncated}, ` +
    `${r.reads} reads (${r.fills} fills), ${opts.readers} readers; verify: checked ${r.report.checked}, ` +
    `consistent ${r.report.consistent}, stale ${r.report.stale}, unknown ${r.report.unknown}; ` +
    `writing ${(r.ms.writing / 1000).toFixed(1)} s, settling ${(r.ms.settling / 1000).toFixed(1)} s, ` +
    `verifying ${(r.ms.verifying / 1000).toFixed(1)} s; targeted ${JSON.stringify(r.targeted)} in ${(r.ms.targeted / 1000).toFixed(1)} s; fk cascades ${opts.fkCascades ? 'on' : 'off'}, menu renames ${opts.menuRenames ? 'on' : 'off'}`;
  const cover = Object.entries(r.coverage)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(`${label} fills: ${cover}`);
  console.log(r.failure ? `${line}\n${r.failure}` : line);
}
