/**
 * `npm run test:chaos` (not in CI): the chaos oracle at size. CHAOS_SCHEDULES seeded schedules
 * (20; seeds CHAOS_BASE_SEED, CHAOS_BASE_SEED+1, …) on each client of CHAOS_CLIENTS
 * (kafkajs,platformatic); CHAOS_SEED runs that one schedule only (a replay). Each schedule:
 * ORACLE_WRITES random writes (600) with CHAOS_FAULTS faults (4) drawn from CHAOS_KINDS (every
 * kind this stack runs), then every key of every family must equal the truth. Prints a `CHAOS`
 * line per run and a `CHAOS SUMMARY` per fault kind; histories in .stack/chaos/.
 */
import { loadRules } from '../../src/rules/registry';
import { useStack } from '../support/harness';
import {
  chaosOptions,
  reportChaos,
  runChaos,
  summarizeChaos,
  type ChaosResult,
  type KafkaClient,
} from '../support/oracle/chaos';
import { buildService } from '../support/service-process';

jest.setTimeout(60 * 60_000);

const env = process.env;
const clients = (env.CHAOS_CLIENTS ?? 'kafkajs,platformatic').split(',') as KafkaClient[];
const first = Number(env.CHAOS_BASE_SEED ?? 1);
const seeds = env.CHAOS_SEED
  ? [Number(env.CHAOS_SEED)]
  : Array.from({ length: Number(env.CHAOS_SCHEDULES ?? 20) }, (_, i) => first + i);

describe('chaos oracle: seeded fault schedules, every key equals the truth after they heal', () => {
  const { db } = useStack();
  const rules = loadRules();
  const results: ChaosResult[] = [];
  beforeAll(() => buildService());
  afterAll(() => console.log(summarizeChaos(results)));

  // seed by seed, both clients each: a run cut short still has figures for both
  for (const seed of seeds) {
    for (const client of clients) {
      it(`${client}, seed ${seed}`, async () => {
        const options = chaosOptions(client, seed, { writes: 600, faults: 4, targeted: 15 });
        const result = await runChaos(db, rules, options);
        results.push(result);
        console.log(reportChaos(result));
        expect(result.oracle.failure).toBe('');
        expect(result.oracle.report.stale).toBe(0);
        expect(result.nemesisErrors).toEqual([]);
        expect(result.oracle.report.consistent).toBeGreaterThan(20); // the readers did fill the cache
      });
    }
  }
});
