/** `mis-cache-sync check`: prints the checks of src/preflight/check.ts; exit 1 on any ✗. */
import { createKafka } from '../intake/kafka';
import { formatCheckLine, runChecks } from '../preflight/check';
import { createRedisClients, type RedisClients } from '../redis/clients';
import type { Kafka } from 'kafkajs';
import type { OpContext } from './context';

export async function checkCommand({ config, rules, logger, out }: OpContext): Promise<number> {
  let kafka: Kafka | undefined;
  let redis: RedisClients | undefined;
  try {
    const groups = await runChecks({
      config,
      rules,
      kafka: () => (kafka ??= createKafka(config.kafka, logger)),
      redis: () => (redis ??= createRedisClients(config.redis, logger)),
    });
    let failed = 0;
    let warned = 0;
    for (const g of groups) {
      out(`${g.group}\n`);
      for (const l of g.lines) {
        if (l.ok === false) failed += 1;
        if (l.ok === 'warn') warned += 1;
        out(`  ${formatCheckLine(l).replace(/\n/g, '\n  ')}\n`);
      }
    }
    out(
      failed === 0
        ? `check passed${warned ? ` (${warned} note(s))` : ''}\n`
        : `check FAILED: ${failed} ✗\n`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await redis?.close().catch(() => undefined);
  }
}
