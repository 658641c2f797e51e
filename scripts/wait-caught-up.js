// Usage: node scripts/wait-caught-up.js <groupId> <topic>... — waits (up to 60 s) until the
// group's committed offsets reach the end of every partition of the topics.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [groupId, ...topics] = process.argv.slice(2);
  const kafka = new Kafka({
    brokers: process.env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      let behind = 0n;
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const c = committed.partitions.find((p) => p.partition === end.partition);
          const at = c && BigInt(c.offset) >= 0n ? BigInt(c.offset) : BigInt(end.low);
          if (BigInt(end.high) > at) behind += BigInt(end.high) - at;
        }
      }
      if (behind === 0n) return;
      if (Date.now() > deadline)
        throw new Error(`group ${groupId} still ${behind} events behind after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
