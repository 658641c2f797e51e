/**
 * The oracle at soak size (`npm run test:soak`, not in CI): 50,000 random writes by default
 * (ORACLE_WRITES), the same run as test/integration/oracle/oracle.test.ts otherwise.
 */
import type { ConnectionPool } from '@databases/mysql';
import type { RunningService } from '../../src/app/service';
import { addForeignKeys, dropForeignKeys, oracleOptions, runOracle } from '../support/oracle';
import { oracleConfig, reportOracle } from '../support/oracle-run';
import { mysqlPool, startCaughtUp } from '../support/stack';

jest.setTimeout(4 * 60 * 60 * 1000);

describe('oracle soak', () => {
  let db: ConnectionPool;
  let service: RunningService;
  const config = oracleConfig();

  beforeAll(async () => {
    db = mysqlPool();
    // before the service starts: it reads the foreign-key graph once, at start
    if (oracleOptions(0).fkCascades) await addForeignKeys(db);
    service = await startCaughtUp(config);
  });
  afterAll(async () => {
    await service?.stop();
    await dropForeignKeys(db);
    await db?.dispose();
  });

  it('0 diverging keys after 50,000 random writes', async () => {
    const opts = oracleOptions(50_000);
    const result = await runOracle(db, config, service.rules, opts);
    reportOracle('SOAK', opts, result);
    expect(result.failure).toBe('');
    expect(result.report.stale).toBe(0);
    expect(result.report.unknown + result.report.missingLoader + result.report.unreadable).toBe(0);
    expect(result.writes).toBeGreaterThan(opts.writes * 0.8);
  });
});
