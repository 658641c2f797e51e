/**
 * Redis restarts while the pattern index holds brand statistics: the index is untrusted from the
 * moment the subscriber connection drops, and until a rebuild (a paced walk of the whole DB,
 * slowed here by a small walk share and a filled DB) makes it trusted again, a pattern delete
 * waits for the rebuild or walks. Keys written before the restart (kept by a SAVE) and during
 * the rebuild, dirtied by orders committed during the rebuild, must all be gone.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { useStack } from '../support/harness';
import { ROOT } from '../support/service-process';
import { sql, testConfig, uniq, waitFor } from '../support/stack';

const FILLER = 60_000;

function stack(...args: string[]): void {
  execFileSync('bash', [`${ROOT}/scripts/stack.sh`, ...args], { cwd: ROOT, stdio: 'inherit' });
}

describe('pattern index across a Redis restart', () => {
  const harness = useStack();
  const { db } = harness;
  const cache = harness.redis(1);
  const ns = `pf${uniq()}`;
  const brand = 700_000_000 + Math.floor(Math.random() * 90_000_000);

  harness.cleanup(async () => {
    await db.query(sql`DELETE FROM trade_orders WHERE order_no LIKE ${`${ns}-%`}`);
    let cursor = '0';
    do {
      const [next, keys] = await cache.scan(cursor, 'MATCH', `*${ns}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) await cache.unlink(...keys);
    } while (cursor !== '0');
  });

  it('no invalidation is lost while the index rebuilds after the restart', async () => {
    for (let i = 0; i < FILLER; i += 5000) {
      const p = cache.pipeline();
      for (let j = i; j < i + 5000; j++)
        p.set(`stats:${ns}f:brand:${1000 + (j % 50)}:${j}`, 'f', 'EX', 900);
      await p.exec();
    }
    const service = await harness.startService(testConfig({ MCS_WALK_SHARE_PERCENT: '2' }));
    const [index] = [...service.patterns.indexes.values()];
    if (!index) throw new Error('the service runs without a pattern index');
    await waitFor(() => index.state === 'trusted', 120_000, 'the first rebuild');

    const order = (n: number) =>
      db.query(
        sql`INSERT INTO trade_orders (order_no, order_date, brand_id, channel, amount) VALUES (${`${ns}-${n}`}, '2024-01-01', ${brand}, 'faults', 1)`,
      );
    const before = [`stats:${ns}a:brand:${brand}`, `stats:${ns}b:brand:${brand}:20240101`];
    for (const k of before) await cache.set(k, 'v', 'EX', 900);
    await cache.save(); // the restarted Redis loads the filler and these keys back
    const dir = ((await cache.config('GET', 'dir')) as string[])[1] ?? '';
    stack('part', 'stop', 'redis');
    await waitFor(() => index.state !== 'trusted', 10_000, 'the index to notice the outage');
    const stateAtFirstOrder = index.state;
    await order(1); // its invalidation can only run once Redis is back, racing the rebuild
    stack('part', 'start', 'redis');
    rmSync(path.join(dir, 'dump.rdb'), { force: true });
    // Written after the restart, before the index is trusted again; then a second order.
    const during = [`stats:${ns}c:brand:${brand}`, `stats:${ns}d:brand:${brand}:x`];
    for (const k of during) await cache.set(k, 'v', 'EX', 900);
    const stateAtSecondOrder = index.state;
    await order(2);
    const all = [...before, ...during];
    const tookMs = await waitFor(
      async () => (await cache.exists(...all)) === 0,
      120_000,
      'the brand keys to go',
      50,
    );
    const present = await cache.exists(...all);
    console.log(
      `FAULTS pattern-index-restart: filler=${FILLER}, index at the orders=${stateAtFirstOrder},${stateAtSecondOrder}, brand keys=${all.length}, still present=${present}, gone after ${tookMs} ms, index now=${index.state}`,
    );
    expect(stateAtFirstOrder).toBe('untrusted');
    expect(present).toBe(0);
    await waitFor(() => index.state === 'trusted', 120_000, 'the index to be trusted again');
  });
});
