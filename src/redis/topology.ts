/**
 * The nodes behind the service's connections, each named by host:port, with what is wrong with
 * it: the sentinels (reachable? do they know the master, and agree on it?), the replicas of
 * every master (connected, acknowledging? known to the sentinels but down?) and, in a cluster,
 * every node of `CLUSTER NODES` (failing, disconnected) and the cluster state. Read at start
 * (logged, `start-up checks`), by `/readyz` and by `mis-cache-sync check`.
 *
 * A finding is `critical` when the service cannot do its work as configured while it lasts: a
 * cluster that does not serve every slot, a failing master that still holds slots, or a connected
 * replica that stopped acknowledging while MCS_REDIS_WAIT_REPLICAS is set (every batch then
 * waits and retries). Lost redundancy (a sentinel down, a replica gone, a failed node without
 * slots) is reported but not critical: invalidation goes on.
 */
import Redis, { type Cluster } from 'ioredis';
import type { Config } from '../config/config';
import { errorMessage } from '../core/errors';
import { nodeOptions } from './clients';
import { parseInfo, withTimeout } from './health';
import type { NodeFinding } from '../telemetry/types';

/** A replica that has not acknowledged for longer than this is "not acknowledging". */
export const ACK_LAG_LIMIT_S = 3;

const isCluster = (c: Redis | Cluster): c is Cluster => (c as Cluster).isCluster === true;

/**
 * host:port of a connection: the peer it is connected to (in sentinel mode the options hold no
 * address, the sentinels name the master), else the configured one.
 */
export function nodeAddress(n: Redis): string {
  const stream =
    n.status === 'ready'
      ? (n.stream as { remoteAddress?: string; remotePort?: number } | undefined)
      : undefined;
  if (stream?.remoteAddress && stream.remotePort)
    return `${stream.remoteAddress.replace(/^::ffff:/, '')}:${stream.remotePort}`;
  return `${n.options.host ?? 'localhost'}:${n.options.port ?? 6379}`;
}
const addr = nodeAddress;

/** The masters the service writes to, by host:port: every cluster master, or the one server. */
export function masters(raw: readonly (Redis | Cluster)[]): Map<string, Redis> {
  const out = new Map<string, Redis>();
  for (const c of raw) {
    for (const n of isCluster(c) ? c.nodes('master') : [c]) {
      const known = out.get(addr(n));
      if (!known || (known.status !== 'ready' && n.status === 'ready')) out.set(addr(n), n);
    }
  }
  return out;
}

/** The connections an ACL check asks: each cluster master, or the one standalone connection. */
export function aclTargets(
  raw: readonly (Redis | Cluster)[],
): { node: string; client: Redis | Cluster }[] {
  const first = raw[0];
  if (!first) return [];
  if (!isCluster(first)) return [{ node: addr(first), client: first }];
  const list = [...masters(raw)].map(([node, client]) => ({ node, client }));
  return list.length > 0 ? list : [{ node: 'cluster', client: first }];
}

export async function inspectTopology(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
  timeoutMs: number,
): Promise<NodeFinding[]> {
  const cluster = raw.find(isCluster);
  const [sentinels, replication, nodes] = await Promise.all([
    config.sentinel ? sentinelFindings(config, timeoutMs) : [],
    replicaFindings(raw, config, timeoutMs),
    cluster ? clusterFindings(cluster, timeoutMs) : [],
  ]);
  // Several sources can describe one node: its problems are all kept, an "ok" only once and
  // only when no source reports a problem with it.
  const all = [...sentinels, ...replication, ...nodes];
  const troubled = new Set(all.filter((f) => !f.ok).map((f) => f.node));
  const seen = new Set<string>();
  return all.filter((f) => {
    if (!f.ok) return true;
    if (troubled.has(f.node) || seen.has(f.node)) return false;
    seen.add(f.node);
    return true;
  });
}

// ---- sentinels -------------------------------------------------------------------------------

async function sentinelFindings(
  config: Config['redis'],
  timeoutMs: number,
): Promise<NodeFinding[]> {
  const sentinel = config.sentinel;
  if (!sentinel) return [];
  const answers = await Promise.all(
    sentinel.hosts.map(async (hostPort) => {
      try {
        return { hostPort, ...(await askSentinel(hostPort, config, sentinel.name, timeoutMs)) };
      } catch (err) {
        return { hostPort, error: errorMessage(err) };
      }
    }),
  );
  const votes = new Map<string, number>();
  for (const a of answers) if (a.master) votes.set(a.master, (votes.get(a.master) ?? 0) + 1);
  const majority = [...votes].sort((x, y) => y[1] - x[1])[0]?.[0];
  const out: NodeFinding[] = answers.map((a): NodeFinding => {
    const role = 'sentinel' as const;
    if (a.error !== undefined)
      return { node: a.hostPort, role, ok: false, detail: `sentinel unreachable: ${a.error}` };
    if (!a.master)
      return {
        node: a.hostPort,
        role,
        ok: false,
        detail: `sentinel does not know master "${sentinel.name}" (SENTINEL MONITOR missing or a wrong MCS_REDIS_SENTINEL_MASTER)`,
      };
    if (a.master !== majority)
      return {
        node: a.hostPort,
        role,
        ok: false,
        detail: `sentinel names ${a.master} as master of "${sentinel.name}", the others ${majority}`,
      };
    return { node: a.hostPort, role, ok: true, detail: `master "${sentinel.name}" at ${a.master}` };
  });
  // Replicas the sentinels know but see down (a replica that died is no longer in INFO).
  const replicas = answers.find((a) => a.replicas)?.replicas ?? [];
  for (const r of replicas) {
    if (!r.down) continue;
    out.push({ node: r.node, role: 'replica', ok: false, detail: `replica down: ${r.down}` });
  }
  return out;
}

interface SentinelAnswer {
  readonly master?: string;
  readonly replicas?: { node: string; down?: string }[];
  readonly error?: string;
}

async function askSentinel(
  hostPort: string,
  config: Config['redis'],
  name: string,
  timeoutMs: number,
): Promise<SentinelAnswer> {
  const i = hostPort.lastIndexOf(':');
  const client = new Redis({
    ...nodeOptions(config, 'sentinel'),
    host: hostPort.slice(0, i),
    port: Number(hostPort.slice(i + 1)),
  });
  client.on('error', () => undefined);
  try {
    await withTimeout(client.connect(), timeoutMs, 'connect');
    const reply = (await withTimeout(
      client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name),
      timeoutMs,
      'SENTINEL GET-MASTER-ADDR-BY-NAME',
    )) as [string, string] | null;
    if (!reply) return {};
    const rows = (await withTimeout(
      client.call('SENTINEL', 'REPLICAS', name),
      timeoutMs,
      'SENTINEL REPLICAS',
    )) as string[][];
    const replicas = rows.map((row) => {
      const field = (k: string) => row[row.indexOf(k) + 1] ?? '';
      const flags = field('flags');
      const down = /s_down|o_down|disconnected/.test(flags)
        ? `flags ${flags}`
        : field('master-link-status') === 'err'
          ? 'its link to the master is down'
          : undefined;
      return { node: `${field('ip')}:${field('port')}`, ...(down ? { down } : {}) };
    });
    return { master: `${reply[0]}:${reply[1]}`, replicas };
  } finally {
    client.disconnect();
  }
}

// ---- replicas of every master ---------------------------------------------------------------

export interface ReplicaLine {
  readonly node: string;
  readonly state: string;
  readonly lagS: number;
}

/** `slaveN:ip=…,port=…,state=…,offset=…,lag=…` lines of INFO replication (pure). */
export function replicaLines(info: string): { connected: number; replicas: ReplicaLine[] } {
  const fields = parseInfo(info);
  const replicas: ReplicaLine[] = [];
  for (const [k, v] of fields) {
    if (!/^slave\d+$/.test(k)) continue;
    const kv = new Map(v.split(',').map((p) => p.split('=') as [string, string]));
    replicas.push({
      node: `${kv.get('ip') ?? '?'}:${kv.get('port') ?? '?'}`,
      state: kv.get('state') ?? '?',
      lagS: Number(kv.get('lag') ?? 0),
    });
  }
  return { connected: Number(fields.get('connected_slaves') ?? replicas.length), replicas };
}

async function replicaFindings(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
  timeoutMs: number,
): Promise<NodeFinding[]> {
  const wanted = config.waitReplicas;
  const per = await Promise.all(
    [...masters(raw)].map(async ([node, client]): Promise<NodeFinding[]> => {
      if (client.status !== 'ready')
        return [
          {
            node,
            role: 'master',
            ok: false,
            critical: true,
            detail: `connection ${client.status}`,
          },
        ];
      let info: string;
      try {
        info = await withTimeout(client.info('replication'), timeoutMs, 'INFO replication');
      } catch (err) {
        const detail = errorMessage(err);
        // a user without +info: no verdict about the replicas, not a failure
        if (/NOPERM/.test(detail))
          return [{ node, role: 'master', ok: true, detail: `not inspected: ${detail}` }];
        return [{ node, role: 'master', ok: false, critical: true, detail }];
      }
      const { connected, replicas } = replicaLines(info);
      const out: NodeFinding[] = replicas.map((r): NodeFinding => {
        const base = { node: r.node, role: 'replica' as const };
        if (r.state !== 'online')
          return { ...base, ok: false, detail: `replica of ${node} in state ${r.state}` };
        if (r.lagS > ACK_LAG_LIMIT_S)
          return {
            ...base,
            ok: false,
            critical: wanted > 0,
            detail:
              `replica of ${node} connected but not acknowledging: last ack ${r.lagS} s ago` +
              (wanted > 0
                ? ' (MCS_REDIS_WAIT_REPLICAS is set: every batch waits and retries)'
                : ''),
          };
        return { ...base, ok: true, detail: `replica of ${node}, online, lag ${r.lagS} s` };
      });
      const short = wanted > 0 && connected < wanted;
      out.unshift({
        node,
        role: 'master',
        ok: !short,
        detail: short
          ? `${connected} replica(s) connected, MCS_REDIS_WAIT_REPLICAS=${wanted}: batches are confirmed on fewer replicas than asked`
          : `${connected} replica(s) connected`,
      });
      return out;
    }),
  );
  return per.flat();
}

// ---- cluster nodes ---------------------------------------------------------------------------

export interface ClusterNodeLine {
  readonly node: string;
  readonly flags: readonly string[];
  readonly linkState: string;
  readonly slots: number;
}

/** `CLUSTER NODES` text → one line per node (pure). */
export function clusterNodeLines(text: string): ClusterNodeLine[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      return {
        node: (f[1] ?? '?').split('@')[0] as string,
        flags: (f[2] ?? '').split(','),
        linkState: f[7] ?? '?',
        slots: f.slice(8).filter((s) => !s.startsWith('[')).length,
      };
    });
}

async function clusterFindings(cluster: Cluster, timeoutMs: number): Promise<NodeFinding[]> {
  let nodesText = '';
  let infoText = '';
  let lastError = 'no cluster node connected';
  // Asked of the pooled nodes in turn: a failed node must not hide the others' view.
  for (const node of cluster.nodes('all').filter((n) => n.status === 'ready')) {
    try {
      nodesText = String(await withTimeout(node.cluster('NODES'), timeoutMs, 'CLUSTER NODES'));
      infoText = String(await withTimeout(node.cluster('INFO'), timeoutMs, 'CLUSTER INFO'));
      break;
    } catch (err) {
      nodesText = '';
      lastError = `${addr(node)}: ${errorMessage(err)}`;
    }
  }
  if (!nodesText)
    return /NOPERM/.test(lastError)
      ? // a least-privilege user without cluster|nodes: no verdict, not a failure
        [{ node: 'cluster', role: 'cluster', ok: true, detail: `not inspected: ${lastError}` }]
      : [{ node: 'cluster', role: 'cluster', ok: false, critical: true, detail: lastError }];
  const out: NodeFinding[] = [];
  const state = parseInfo(infoText).get('cluster_state');
  if (state !== 'ok')
    out.push({
      node: 'cluster',
      role: 'cluster',
      ok: false,
      critical: true,
      detail: `cluster_state ${state ?? '?'}: some slots are not served`,
    });
  for (const n of clusterNodeLines(nodesText)) {
    const master = n.flags.includes('master');
    const failing = n.flags.includes('fail') || n.flags.includes('fail?');
    const problem = failing
      ? `flagged ${n.flags.filter((f) => f.startsWith('fail')).join(',')}`
      : n.linkState !== 'connected'
        ? `link ${n.linkState}`
        : undefined;
    out.push({
      node: n.node,
      role: master ? 'master' : 'replica',
      ok: problem === undefined,
      ...(problem && master && n.slots > 0 && n.flags.includes('fail') ? { critical: true } : {}),
      detail: problem
        ? `cluster node ${problem}${master && n.slots > 0 ? ` while holding ${n.slots} slot range(s)` : ''}`
        : `cluster ${master ? `master, ${n.slots} slot range(s)` : 'replica'}`,
    });
  }
  return out;
}
