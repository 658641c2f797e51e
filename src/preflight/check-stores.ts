/** `check`: the stores the service reads and writes, MySQL and Redis (see check.ts). */
import { withTls } from '../mysql/loader';
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/config';
import { FAMILIES } from '../core/families';
import { errorMessage } from '../core/errors';
import { createMysqlInspector } from '../mysql/inspect';
import { checkDatabases, memoryWarnings } from './redis-startup';
import { inspectTopology, masters } from '../redis/topology';
import { notifyFeedProblem } from '../redis/keyspace';
import type { NodeFinding } from '../telemetry/types';
import { withTimeout, type CheckGroup, type CheckLine } from './check-line';

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
    const db = createMysqlInspector(withTls(config.mysql.url, config.mysql.tls));
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
          const denied = /command denied/i.test(errorMessage(err));
          // The service never runs existsOnlyIf (verify and the monitor do, as their own user):
          // a least-privilege service user without SELECT on its table is expected.
          const verifyOnly = denied && line.name.endsWith('.existsOnlyIf prepares');
          out[i] = {
            ok: verifyOnly ? 'warn' : false,
            name: line.name,
            detail: verifyOnly
              ? `${errorMessage(err)}: fine for the service, which never runs it; verify and the consistency monitor need a MySQL user that may`
              : `${errorMessage(err)} in: ${line.detail}`,
            fix: denied
              ? verifyOnly
                ? 'run verify / monitor with MYSQL_URL of a user with SELECT on it (docs/security.md, Production security)'
                : "GRANT SELECT on the table to the service's MySQL user"
              : 'fix the SQL in the rule file (a renamed column or table?)',
          };
        }
      }
    } finally {
      await db.close();
    }
    return out;
  },
};

/** The commands the service sends (docs/security.md's ACL), with a key of the pattern they need. */
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
    // Eviction policy and ACL are per node: every master is asked and named.
    const nodes = masters(clients.raw);
    const named = (name: string, node: string) => (nodes.size > 1 ? `${name} (${node})` : name);
    for (const [server, node] of nodes) {
      out.push(await evictionLine(node, named('Redis eviction policy', server), server));
      out.push(
        await aclLine(node, named('Redis ACL allows the commands the service uses', server)),
      );
      if (config.redis.patternIndex !== 'off' && !config.redis.cluster)
        out.push(await notifyLine(node, named('Redis pattern index feed', server), server));
    }
    out.push(...(await topologyLines(clients.raw, config.redis)));
    await clients.close();
    return out;
  },
};

/**
 * The pattern index is trusted only on a whole notification feed (pattern-index.ts); without it
 * the service runs, but every pattern delete walks (`mis_cache_sync_pattern_index_trusted` 0).
 */
async function notifyLine(node: Redis, name: string, server: string): Promise<CheckLine> {
  const problem = await notifyFeedProblem(node);
  return {
    ok: problem === undefined ? true : 'warn',
    name,
    detail:
      problem === undefined
        ? `${server}: notify-keyspace-events covers every class a key is made in: the pattern index can be trusted`
        : `${server}: ${problem}: the pattern index stays untrusted and pattern deletes walk (paced)`,
    ...(problem === undefined
      ? {}
      : {
          fix: `on ${server}: CONFIG SET notify-keyspace-events KA (and the same in its redis.conf), or MCS_PATTERN_INDEX=configure`,
        }),
  };
}

async function evictionLine(node: Redis, name: string, server: string): Promise<CheckLine> {
  try {
    const get = async (key: string) => ((await node.config('GET', key)) as string[])[1] ?? '';
    const policy = await get('maxmemory-policy');
    const maxmemory = Number(await get('maxmemory'));
    const warnings = memoryWarnings({ policy, maxmemory });
    return {
      ok: warnings.length === 0 ? true : 'warn',
      name,
      detail: `${server}: maxmemory-policy ${policy}, maxmemory ${maxmemory}${warnings.length ? `: ${warnings.join('; ')}` : ''}`,
      ...(warnings.length
        ? {
            fix: `on ${server}: CONFIG SET maxmemory-policy volatile-lru (and maxmemory), and the same in its redis.conf`,
          }
        : {}),
    };
  } catch (err) {
    return {
      ok: 'warn',
      name,
      detail: `${server}: CONFIG GET refused (${errorMessage(err)}): not checked`,
      fix: 'allow +config|get to the service user, or check the policy with the provider',
    };
  }
}

/** One line per node of the topology (sentinels, replicas, cluster nodes), named by host:port. */
async function topologyLines(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
): Promise<CheckLine[]> {
  let findings: NodeFinding[];
  try {
    findings = await inspectTopology(raw, config, 3000);
  } catch (err) {
    return [{ ok: 'warn', name: 'Redis topology', detail: `not inspected: ${errorMessage(err)}` }];
  }
  return findings.map((f) => ({
    ok: f.ok ? true : f.critical ? false : 'warn',
    name: `Redis ${f.role} ${f.node}`,
    detail: f.detail,
    ...(f.ok ? {} : { fix: TOPOLOGY_FIX[f.role] }),
  }));
}

const TOPOLOGY_FIX: Record<NodeFinding['role'], string> = {
  sentinel:
    'start the sentinel or fix MCS_REDIS_SENTINELS; it must monitor the master under MCS_REDIS_SENTINEL_MASTER (SENTINEL MONITOR)',
  replica:
    'restart the replica or repair its link to the master (INFO replication on both); with MCS_REDIS_WAIT_REPLICAS a connected replica must acknowledge',
  master:
    'start the node or restore its replicas (REPLICAOF / CLUSTER REPLICATE); see redis-cli --cluster check',
  cluster:
    'redis-cli --cluster check <node>; a failed master needs its replica promoted or the node back',
};

/** ACL DRYRUN of every command the service uses, as the connection's own user. */
async function aclLine(node: Redis, name: string): Promise<CheckLine> {
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
      fix: 'run check as an admin user with the same REDIS_URL host, or compare the ACL with docs/security.md',
    };
  return refused.length === 0
    ? { ok: true, name, detail: `user ${user}: ${ACL_PROBES.length} command/key probes allowed` }
    : {
        ok: false,
        name,
        detail: `user ${user}: ${refused.join('; ')}`,
        fix: "grant them: see the ACL SETUSER line in docs/security.md (The service's Redis ACL)",
      };
}
