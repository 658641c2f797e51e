/**
 * `check`'s source freshness line: did Debezium write a heartbeat lately? Asked of the broker
 * alone (the offset of the first heartbeat newer than the window), so no consumer group is made.
 * What the service has applied is its gauge `mis_cache_sync_source_freshness_seconds`; this
 * line tells whether the source side beats at all.
 */
import { errorMessage } from '../core/errors';
import { withTimeout, type CheckGroup, type CheckLine } from './check-line';

/** Heartbeats come every few seconds on a healthy connector: a minute without one is not. */
export const HEARTBEAT_WINDOW_MS = 60_000;

export const freshnessChecks: CheckGroup = {
  name: 'Source freshness',
  async run({ config, kafka }) {
    const topic = config.kafka.heartbeatTopic;
    if (topic === '') {
      return [
        {
          ok: 'warn',
          name: 'Debezium heartbeats',
          detail: 'not followed (MCS_HEARTBEAT_TOPIC=off)',
        },
      ];
    }
    const name = `Debezium heartbeats on ${topic}`;
    const admin = kafka().admin();
    try {
      await withTimeout(admin.connect(), 15_000, 'connect');
      if (!(await admin.listTopics()).includes(topic)) return [missing(name, 'topic missing')];
      const ends = await withTimeout(admin.fetchTopicOffsets(topic), 15_000, 'end offsets');
      const total = ends.reduce((n, p) => n + BigInt(p.high), 0n);
      if (total === 0n) return [missing(name, 'no heartbeat written yet')];
      const since = Date.now() - HEARTBEAT_WINDOW_MS;
      const recent = await withTimeout(
        admin.fetchTopicOffsetsByTimestamp(topic, since),
        15_000,
        'offsets by time',
      );
      const fresh = recent.some((r) => {
        const end = ends.find((e) => e.partition === r.partition);
        return end !== undefined && BigInt(r.offset) >= 0n && BigInt(r.offset) < BigInt(end.high);
      });
      return [
        fresh
          ? {
              ok: true,
              name,
              detail: `a heartbeat within the last ${HEARTBEAT_WINDOW_MS / 1000} s`,
            }
          : {
              ok: false,
              name,
              detail: `none within the last ${HEARTBEAT_WINDOW_MS / 1000} s: the connector is stopped, paused or stalled, or cannot read the binlog`,
              fix: 'GET $CONNECT_URL/connectors/<name>/status and the Connect log; restart the task',
            },
      ];
    } catch (err) {
      return [{ ok: false, name, detail: errorMessage(err) }];
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
};

function missing(name: string, detail: string): CheckLine {
  return {
    ok: 'warn',
    name,
    detail,
    fix: 'set heartbeat.interval.ms on the connector (and, on MySQL/MariaDB, connect.keep.alive.interval.ms so a quiet binlog still beats)',
  };
}
