/**
 * Values the application can read (issue 8 §4) on the real stack: with MCS_REFRESH_FAMILIES=master
 * and MCS_VALUE_FORMATS=master=pickle, a brand rename rebuilds `master:brands` in pickle, and a
 * Python cache-aside reader written like the application's (test/support/python/cache_reader.py,
 * Debian's python3 + python3-redis) gets it as a cache hit, with no decode error, equal to what
 * it builds from MySQL. `verify` judges the pickled value consistent.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createRowLoader } from '../../../src/mysql/loader';
import { verify } from '../../../src/consistency/verify';
import { createRedisClients } from '../../../src/redis/clients';
import type { RunningService } from '../../../src/app/service';
import { createLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { sql, stackEnv, testConfig, waitFor } from '../../support/stack';

const READER = path.join(__dirname, '..', '..', 'support', 'python', 'cache_reader.py');
const MASTER_DB = 9;

describe('pickled master data read by a Python cache-aside reader', () => {
  const stack = useStack();
  const { db } = stack;
  const master = stack.redis(MASTER_DB);
  let service: RunningService;
  const config = testConfig({
    MCS_REFRESH_FAMILIES: 'master',
    MCS_VALUE_FORMATS: 'master=pickle',
    MCS_REDIS_DB_MASTER: String(MASTER_DB),
    MCS_SECOND_PASS_DELAY_MS: '0',
  });

  beforeAll(async () => {
    service = await stack.startService(config);
  });
  stack.cleanup(() => master.del('master:brands'));

  it('a renamed brand is a cache hit equal to MySQL, and verify reads it', async () => {
    const [before] = (await db.query(sql`SELECT brand_name FROM brands WHERE brand_id = 2`)) as {
      brand_name: string;
    }[];
    const renamed = `조이-${Date.now() % 100000}`;
    await master.set('master:brands', 'stale', 'EX', 600);
    await db.query(sql`UPDATE brands SET brand_name = ${renamed} WHERE brand_id = 2`);
    try {
      await waitFor(
        async () =>
          ((await master.getBuffer('master:brands')) ?? Buffer.alloc(0)).includes(
            Buffer.from(renamed),
          ),
        20_000,
        'master:brands rebuilt in pickle',
      );
      // A writer changing brands meanwhile (another test) only delays equality: retry until the
      // service-written value (protocol 3; the Python reader writes protocol 4 on a miss) is a hit
      // equal to MySQL. Every attempt must unpickle without error.
      type Out = {
        hit: boolean;
        decode_error: string | null;
        equal: boolean;
        value: { name: string }[];
        mysql: unknown[];
      };
      const firstDiff = (o: Out): string => {
        const i = o.value.findIndex((v, k) => JSON.stringify(v) !== JSON.stringify(o.mysql[k]));
        return `${o.value.length} vs ${o.mysql.length} rows; at ${i}: ${JSON.stringify(o.value[i])} vs ${JSON.stringify(o.mysql[i])}`;
      };
      let out: Out | undefined;
      let lastDiff = '';
      await waitFor(
        async () => {
          const raw = await master.getBuffer('master:brands');
          if (!raw || raw[0] !== 0x80 || raw[1] !== 3) return false; // not (yet) the service's pickle
          out = JSON.parse(
            execFileSync('/usr/bin/python3', [
              READER,
              stackEnv('REDIS_URL'),
              String(MASTER_DB),
              stackEnv('MYSQL_URL'),
            ]).toString(),
          ) as Out;
          expect(out.decode_error).toBeNull();
          if (out.hit && !out.equal) lastDiff = firstDiff(out);
          return out.hit && out.equal;
        },
        30_000,
        `a cache hit equal to MySQL (last difference: ${lastDiff})`,
        200,
      );
      expect(out).toMatchObject({ hit: true, decode_error: null, equal: true });
      expect(out?.value.map((b) => b.name)).toContain(renamed);

      const clients = createRedisClients(config.redis, createLogger('silent'));
      const loader = createRowLoader(config.mysql.url);
      try {
        // (converges: a concurrent brand change is stale until the service refreshed it)
        let report = await verify(
          { config, rules: service.rules, ports: clients.ports, loader },
          { sample: 100, families: ['master'] },
        );
        // The key must be there before and after the pass: a pass that found it deleted (the
        // service's refresh of a concurrent change) judges nothing about the pickled value.
        await waitFor(
          async () => {
            if ((await master.exists('master:brands')) !== 1) return false;
            report = await verify(
              { config, rules: service.rules, ports: clients.ports, loader },
              { sample: 100, families: ['master'] },
            );
            return (
              report.staleKeys.every((k) => k.key !== 'master:brands') &&
              report.consistent >= 1 &&
              (await master.exists('master:brands')) === 1
            );
          },
          20_000,
          'verify to judge the pickled master:brands consistent',
          200,
        );
        expect(report.unreadable).toBe(0);
        expect(report.consistent).toBeGreaterThanOrEqual(1);
      } finally {
        await clients.close();
        await loader.close();
      }
    } finally {
      await db.query(
        sql`UPDATE brands SET brand_name = ${before?.brand_name ?? '조이'} WHERE brand_id = 2`,
      );
    }
  });
});
