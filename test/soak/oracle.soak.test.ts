/**
 * The oracle at soak size (`npm run test:soak`, not in CI): 50,000 random writes by default
 * (ORACLE_WRITES), the same run as test/integration/oracle/oracle.test.ts otherwise.
 */
import { oracleOptions, runOracle } from '../support/oracle';
import { reportOracle, useOracleStack } from '../support/oracle-run';

jest.setTimeout(4 * 60 * 60 * 1000);

describe('oracle soak', () => {
  const { db, config, service } = useOracleStack();

  it('0 diverging keys after 50,000 random writes', async () => {
    const opts = oracleOptions(50_000);
    const result = await runOracle(db, config, service().rules, opts);
    reportOracle('SOAK', opts, result);
    expect(result.failure).toBe('');
    expect(result.report.stale).toBe(0);
    expect(result.report.unknown + result.report.missingLoader + result.report.unreadable).toBe(0);
    expect(result.writes).toBeGreaterThan(opts.writes * 0.8);
  });
});
