/**
 * The chaos oracle at CI size (test/support/oracle/chaos.ts): one short seeded fault schedule per
 * Kafka client — the service as real processes, the randomized writer and cache-aside readers,
 * three faults started and healed between the writes — then every key of every family must equal
 * the truth. The seeds are fixed so CI replays the same schedules; `npm run test:chaos` runs many.
 */
import { loadRules } from '../../../src/rules/registry';
import { useStack } from '../../support/harness';
import { chaosOptions, reportChaos, runChaos, type KafkaClient } from '../../support/oracle/chaos';
import { describeSchedule, planSchedule } from '../../support/oracle/nemesis';
import { buildService } from '../../support/service-process';

// Service starts, broker and Connect restarts on a loaded 2-core machine: minutes, not seconds.
jest.setTimeout(20 * 60_000);

const SCHEDULES: readonly [KafkaClient, number][] = [
  ['kafkajs', 2], // connect, notify, kill
  ['platformatic', 11], // fresh-join, kill, notify
];

describe('chaos oracle (CI size): one seeded schedule per Kafka client', () => {
  const { db } = useStack();
  const rules = loadRules();
  beforeAll(() => buildService());

  it('the same seed plans the same schedule, and another seed another', () => {
    const kinds = chaosOptions('kafkajs', 3, { writes: 300, faults: 3, targeted: 9 }).kinds;
    const plan = (seed: number) => describeSchedule(planSchedule(seed, 300, kinds, 3));
    expect(plan(3)).toBe(plan(3));
    expect(plan(3)).not.toBe(plan(4));
  });

  it.each(SCHEDULES)(
    '%s, seed %i: every key equals the truth after the faults healed',
    async (client, seed) => {
      const result = await runChaos(
        db,
        rules,
        chaosOptions(client, seed, { writes: 300, faults: 3, targeted: 9 }),
      );
      console.log(reportChaos(result));
      expect(result.oracle.failure).toBe('');
      expect(result.oracle.report.stale).toBe(0);
      expect(result.nemesisErrors).toEqual([]);
      expect(result.plan).toHaveLength(3);
      expect(result.oracle.report.consistent).toBeGreaterThan(10); // the readers did fill the cache
    },
  );
});
