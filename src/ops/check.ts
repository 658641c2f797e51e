/**
 * `mis-cache-sync check`: is everything set up the way the service needs? One line per check,
 * ✓ / ✗ (and ! for what works but deserves a look), each ✗ with its fix. The checks come in
 * groups (`CHECK_GROUPS`): Kafka, Kafka Connect, MySQL, Redis. A new group (e.g. the foreign-key
 * graph read from information_schema) is one more entry there.
 */
import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config';
import { FAMILIES } from '../config/families';
import { errorMessage } from '../errors';
import { topicFor } from '../intake/topics';
import { createMysqlInspector } from '../mysql/inspect';
import type { RedisClients } from '../redis/clients';
import { checkDatabases, memoryWarnings } from '../redis/startup-checks';
import type { RuleSet } from '../rules/registry';
import { connectChecks } from './check-connect';
import type { CheckLine } from './check-line';

export type { CheckLine } from './check-line';

export interface CheckContext {
  readonly config: Config;
  readonly rules: RuleSet;
  /** Opened lazily by the caller; each group uses what it needs. */
  readonly kafka: () => Kafka;
  readonly redis: () => RedisClients;
}

export interface CheckGroup {
  readonly name: string;
  run(ctx: CheckContext): Promise<CheckLine[]>;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms).unref(),
    ),
  ]);

export const kafkaChecks: CheckGroup = {
  name: 'Kafka',
  async run({ config, rules, kafka }) {
    const brokers = config.kafka.brokers.join(',');
    const admin = kafka().admin();
    let topics: string[];
    try {
      await withTimeout(admin.connect(), 15_000, 'connect');
      topics = await withTimeout(admin.listTopics(), 15_000, 'list topics');
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      return [
        {
          ok: false,
          name: `Kafka reachable at ${brokers}`,
          detail: errorMessage(err),
          fix: 'start the brokers, or fix KAFKA_BROKERS (and the MCS_KAFKA_SSL / SASL settings)',
        },
      ];
    }
    const out: CheckLine[] = [
      { ok: true, name: `Kafka reachable at ${brokers}`, detail: `${topics.length} topic(s)` },
    ];
    try {
      const have = new Set(topics);
      const { topicPrefix: prefix, database } = config.kafka;
      for (const table of rules.tables) {
        const topic = topicFor(prefix, database, table);
        const present = have.has(topic);
        out.push({
          ok: present || (config.kafka.ensureTopics ? 'warn' : false),
          name: `change topic ${topic} (table ${table})`,
          detail: present
            ? 'present'
            : config.kafka.ensureTopics
              ? 'missing: the service creates it at start (MCS_ENSURE_TOPICS=true); Debezium writes it on the first change'
              : 'missing',
          ...(present
            ? {}
            : {
                fix: `create it (kafka-topics.sh --create --topic ${topic}) or set MCS_ENSURE_TOPICS=true; check that the connector captures ${database}.${table} (table.include.list)`,
              }),
        });
      }
      const head = `${prefix}.${database}.`;
      const unruled = topics
        .filter((t) => t.startsWith(head) && !rules.get(t.slice(head.length)))
        .map((t) => t.slice(head.length));
      out.push({
        ok: unruled.length === 0 ? true : 'warn',
        name: 'tables with change topics but no rule',
        detail:
          unruled.length === 0 ? 'none' : `${unruled.join(', ')} (their changes are not followed)`,
        ...(unruled.length === 0
          ? {}
          : {
              fix: 'if cached keys depend on them, add consumers/<table>.ts; otherwise exclude them in the connector',
            }),
      });
      const sampleFrom = rules.tables
        .map((t) => topicFor(prefix, database, t))
        .filter((t) => have.has(t));
      out.push(await formatLine(kafka(), admin, sampleFrom));
    } finally {
      await admin.disconnect();
    }
    return out;
  },
};

type Admin = ReturnType<Kafka['admin']>;

/** Reads the newest record of the first non-empty change topic and tells its format. */
async function formatLine(
  kafka: Kafka,
  admin: Admin,
  topics: readonly string[],
): Promise<CheckLine> {
  const name = 'change event format (newest record of a change topic)';
  let at: { topic: string; partition: number; offset: string } | undefined;
  for (const topic of topics) {
    const p = (await admin.fetchTopicOffsets(topic)).find((o) => BigInt(o.high) > BigInt(o.low));
    if (p) {
      at = { topic, partition: p.partition, offset: (BigInt(p.high) - 1n).toString() };
      break;
    }
  }
  if (!at) return { ok: 'warn', name, detail: 'no change event yet: format not checked' };
  const target = at;
  const groupId = `mis-cache-sync-check-${Date.now().toString(36)}`;
  const consumer = kafka.consumer({ groupId });
  let value: Buffer | null = null;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [target.topic], fromBeginning: true });
    const got = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (partition === target.partition && message.offset === target.offset) {
            value = message.value;
            resolve();
          }
        },
      });
    });
    consumer.seek({ topic: target.topic, partition: target.partition, offset: target.offset });
    await withTimeout(got, 15_000, 'reading a change event');
  } catch (err) {
    return { ok: 'warn', name, detail: `not checked: ${errorMessage(err)}` };
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  const where = `${target.topic}/${target.partition}@${target.offset}`;
  return describeFormat(value, where, name);
}

export function describeFormat(value: Buffer | null, where: string, name: string): CheckLine {
  if (value === null)
    return { ok: 'warn', name, detail: `${where} is a tombstone: format not checked` };
  if (value[0] === 0)
    return {
      ok: false,
      name,
      detail: `${where}: Avro (Confluent wire format)`,
      fix: 'this build decodes JSON change events: use org.apache.kafka.connect.json.JsonConverter',
    };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return {
      ok: false,
      name,
      detail: `${where}: neither JSON nor Avro`,
      fix: 'use org.apache.kafka.connect.json.JsonConverter',
    };
  }
  const o = (json ?? {}) as Record<string, unknown>;
  const withSchema = 'schema' in o && 'payload' in o;
  const body = (withSchema ? o.payload : o) as Record<string, unknown> | null;
  const envelope =
    body !== null &&
    typeof body === 'object' &&
    'op' in body &&
    ('before' in body || 'after' in body);
  return envelope
    ? {
        ok: true,
        name,
        detail: `${where}: JSON ${withSchema ? 'with' : 'without'} schemas, full Debezium envelope`,
      }
    : {
        ok: false,
        name,
        detail: `${where}: JSON ${withSchema ? 'with' : 'without'} schemas, flattened (no op/before/after)`,
        fix: 'remove the ExtractNewRecordState transform: the service needs the before and after images',
      };
}

export const connectGroup: CheckGroup = {
  name: 'Kafka Connect',
  async run({ config }) {
    if (!config.connect.url)
      return [
        {
          ok: 'warn',
          name: 'Kafka Connect',
          detail: 'CONNECT_URL not set: connector checks skipped',
          fix: 'set CONNECT_URL to check the Debezium connector',
        },
      ];
    return connectChecks(config);
  },
};

export const mysqlChecks: CheckGroup = {
  name: 'MySQL',
  async run({ config, rules }) {
    if (!config.mysql.url)
      return [
        {
          ok: false,
          name: 'MySQL',
          detail: 'MYSQL_URL not set',
          fix: 'set MYSQL_URL (mysql://user:pass@host:port/db): loaders and existsOnlyIf queries need it',
        },
      ];
    const db = createMysqlInspector(config.mysql.url);
    const out: CheckLine[] = [];
    try {
      for (const [name, want, fix] of [
        [
          'binlog_format',
          'ROW',
          "SET GLOBAL binlog_format='ROW' and binlog_format=ROW under [mysqld] in my.cnf; then restart the connector",
        ],
        [
          'binlog_row_image',
          'FULL',
          "SET GLOBAL binlog_row_image='FULL' and binlog_row_image=FULL under [mysqld] in my.cnf (MINIMAL leaves the key columns out of the before/after images); then restart the connector",
        ],
      ] as const) {
        let value: string | undefined;
        try {
          value = await withTimeout(db.variable(name), 10_000, 'MySQL');
        } catch (err) {
          return [
            {
              ok: false,
              name: 'MySQL reachable',
              detail: errorMessage(err),
              fix: 'start MySQL or fix MYSQL_URL',
            },
          ];
        }
        const ok = value?.toUpperCase() === want;
        out.push({
          ok,
          name: `MySQL ${name}=${want}`,
          detail: value ?? '(not set)',
          ...(ok ? {} : { fix }),
        });
      }
      for (const table of rules.tables) {
        const rule = rules.get(table);
        rule?.targets.forEach((t, i) => {
          for (const [kind, q] of [
            ['loader', t.compiledLoader],
            ['existsOnlyIf', t.compiledExistsOnlyIf],
          ] as const) {
            if (!q) continue;
            out.push({
              ok: true,
              name: `${rule.file} targets[${i}].${kind} prepares`,
              detail: q.text,
            });
          }
        });
      }
      for (let i = 0; i < out.length; i++) {
        const line = out[i] as CheckLine;
        if (!line.name.endsWith('prepares') || line.detail === undefined) continue;
        try {
          await db.prepares(line.detail);
          out[i] = { ...line, detail: 'ok' };
        } catch (err) {
          out[i] = {
            ok: false,
            name: line.name,
            detail: `${errorMessage(err)} in: ${line.detail}`,
            fix: 'fix the SQL in the rule file (a renamed column or table?)',
          };
        }
      }
    } finally {
      await db.close();
    }
    return out;
  },
};

/** The commands the service sends (the README's ACL), with a key of the pattern they need. */
const ACL_PROBES: readonly (readonly string[])[] = [
  ['ping'],
  ['info', 'memory'],
  ['config', 'get', 'maxmemory'],
  ['select', '0'],
  ['client', 'setname', 'mis-cache-sync'],
  ...FAMILIES.flatMap((f) => [
    ['get', `${f}:mcs-check`],
    ['unlink', `${f}:mcs-check`],
    ['del', `${f}:mcs-check`],
  ]),
  ['set', 'lock:mcs-check', '1', 'EX', '1', 'NX'],
  ['scan', '0', 'MATCH', 'stats:*', 'COUNT', '1'],
  ['eval', 'return 1', '1', 'mcs:version:mcs-check'],
  ['zadd', 'mcs:second-pass', '0', 'x'],
  ['zrangebyscore', 'mcs:second-pass', '0', '1'],
  ['zrem', 'mcs:second-pass', 'x'],
  ['zscore', 'mcs:second-pass', 'x'],
];

export const redisChecks: CheckGroup = {
  name: 'Redis',
  async run({ config, redis }) {
    const clients = redis();
    const out: CheckLine[] = [];
    try {
      await withTimeout(clients.ready(), 10_000, 'Redis');
    } catch (err) {
      return [
        {
          ok: false,
          name: 'Redis reachable',
          detail: errorMessage(err),
          fix: 'start Redis or fix REDIS_URL',
        },
      ];
    }
    out.push({
      ok: true,
      name: 'Redis reachable',
      detail: config.redis.cluster ? 'cluster' : 'standalone',
    });
    try {
      await checkDatabases(clients.raw, config.redis);
      out.push({
        ok: true,
        name: 'Redis logical DBs of every family exist',
        detail: FAMILIES.map((f) => `${f} ${config.redis.db[f]}`).join(', '),
      });
    } catch (err) {
      out.push({
        ok: false,
        name: 'Redis logical DBs of every family exist',
        detail: errorMessage(err),
        fix: 'set the MCS_REDIS_DB_* setting to a DB the server has, or raise `databases` in redis.conf',
      });
    }
    const node = clients.raw[0] as Redis;
    try {
      const get = async (name: string) => ((await node.config('GET', name)) as string[])[1] ?? '';
      const policy = await get('maxmemory-policy');
      const maxmemory = Number(await get('maxmemory'));
      const warnings = memoryWarnings({ policy, maxmemory });
      out.push({
        ok: warnings.length === 0 ? true : 'warn',
        name: 'Redis eviction policy',
        detail: `maxmemory-policy ${policy}, maxmemory ${maxmemory}${warnings.length ? `: ${warnings.join('; ')}` : ''}`,
        ...(warnings.length
          ? {
              fix: 'CONFIG SET maxmemory-policy volatile-lru (and maxmemory), and the same in redis.conf',
            }
          : {}),
      });
    } catch (err) {
      out.push({
        ok: 'warn',
        name: 'Redis eviction policy',
        detail: `CONFIG GET refused (${errorMessage(err)}): not checked`,
        fix: 'allow +config|get to the service user, or check the policy with the provider',
      });
    }
    out.push(await aclLine(node));
    await clients.close();
    return out;
  },
};

/** ACL DRYRUN of every command the service uses, as the connection's own user. */
async function aclLine(node: Redis): Promise<CheckLine> {
  const name = 'Redis ACL allows the commands the service uses';
  let user: string;
  try {
    user = String(await node.call('ACL', 'WHOAMI'));
  } catch (err) {
    return { ok: 'warn', name, detail: `ACL WHOAMI refused (${errorMessage(err)}): not checked` };
  }
  const refused: string[] = [];
  let dryRun = true;
  for (const probe of ACL_PROBES) {
    try {
      const reply = String(await node.call('ACL', 'DRYRUN', user, ...probe));
      if (reply !== 'OK') refused.push(`${probe.slice(0, 2).join(' ')}: ${reply}`);
    } catch (err) {
      // The service user may not run ACL DRYRUN itself: then no verdict, not a failure.
      if (/NOPERM|unknown subcommand/i.test(errorMessage(err)) && refused.length === 0) {
        dryRun = false;
        break;
      }
      refused.push(`${probe.slice(0, 2).join(' ')}: ${errorMessage(err)}`);
    }
  }
  if (!dryRun)
    return {
      ok: 'warn',
      name,
      detail: `user ${user} may not run ACL DRYRUN: not checked`,
      fix: 'run check as an admin user with the same REDIS_URL host, or compare the ACL with the README',
    };
  return refused.length === 0
    ? { ok: true, name, detail: `user ${user}: ${ACL_PROBES.length} command/key probes allowed` }
    : {
        ok: false,
        name,
        detail: `user ${user}: ${refused.join('; ')}`,
        fix: 'grant them: see the ACL SETUSER line in the README (Security)',
      };
}

/** The groups `check` runs, in order. */
export const CHECK_GROUPS: readonly CheckGroup[] = [
  kafkaChecks,
  connectGroup,
  mysqlChecks,
  redisChecks,
];

export async function runChecks(
  ctx: CheckContext,
  groups: readonly CheckGroup[] = CHECK_GROUPS,
): Promise<{ group: string; lines: CheckLine[] }[]> {
  const out = [];
  for (const g of groups) {
    let lines: CheckLine[];
    try {
      lines = await g.run(ctx);
    } catch (err) {
      lines = [{ ok: false, name: g.name, detail: `check failed: ${errorMessage(err)}` }];
    }
    out.push({ group: g.name, lines });
  }
  return out;
}

export function formatCheckLine(l: CheckLine): string {
  const mark = l.ok === true ? '✓' : l.ok === false ? '✗' : '!';
  const fix = l.ok !== true && l.fix ? `\n    fix: ${l.fix}` : '';
  return `${mark} ${l.name}${l.detail ? `: ${l.detail}` : ''}${fix}`;
}
