/**
 * ioredis connections behind the Redis port: one per logical DB in use (standalone), or one
 * cluster client for every family (cluster mode, DB 0 only). Connections fail fast (no endless
 * offline queue): a command Redis cannot take errors out quickly, and the batch loop decides to
 * retry, so an outage stalls consumption instead of piling up commands in memory.
 */
import { readFileSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config';
import { FAMILIES, type Family } from '../core/families';
import type { Logger } from '../telemetry/logger';
import { isSentinelUrl, parseSentinelUrl } from '../config/sentinel';
import type { RedisPort, ReplicaAck, ScanPort } from './port';

export interface RedisClients {
  readonly ports: Readonly<Record<Family, RedisPort>>;
  /** The connections, for startup checks (CONFIG GET, INFO). */
  readonly raw: readonly (Redis | Cluster)[];
  /** Waits until every connection answers PING. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const COMMON: RedisOptions = {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 5000,
  retryStrategy: (times) => Math.min(100 * 2 ** times, 5000),
  connectionName: 'mis-cache-sync',
};

/** TLS options for `rediss://` (and `rediss+sentinel://`) URLs (CA file, verification). */
function tlsOptions(config: Config['redis']): Pick<RedisOptions, 'tls'> {
  if (!/^rediss[:+]/.test(config.url)) return {};
  return {
    tls: {
      rejectUnauthorized: config.tlsRejectUnauthorized,
      ...(config.tlsCaFile ? { ca: readFileSync(config.tlsCaFile, 'utf8') } : {}),
    },
  };
}

export function createRedisClients(config: Config['redis'], logger: Logger): RedisClients {
  const onError = (where: string) => (err: Error) =>
    logger.debug({ where, err: err.message }, 'redis connection error');
  if (config.cluster) {
    const url = new URL(config.url);
    const cluster = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
      redisOptions: {
        ...COMMON,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...tlsOptions(config),
      },
      lazyConnect: true,
      enableOfflineQueue: true,
    });
    cluster.on('error', onError('cluster'));
    const port = clusterPort(cluster);
    return handles(
      Object.fromEntries(FAMILIES.map((f) => [f, port])) as Record<Family, RedisPort>,
      [cluster],
    );
  }
  const byDb = new Map<number, Redis>();
  const ports = {} as Record<Family, RedisPort>;
  for (const family of FAMILIES) {
    const db = config.db[family];
    let client = byDb.get(db);
    if (!client) {
      client = standaloneClient(config, db);
      client.on('error', onError(`db ${db}`));
      byDb.set(db, client);
    }
    ports[family] = standalonePort(client);
  }
  return handles(ports, [...byDb.values()]);
}

/** A connection to one logical DB: of the server in REDIS_URL, or of the master the sentinels name. */
function standaloneClient(config: Config['redis'], db: number): Redis {
  return config.sentinel
    ? new Redis({ ...COMMON, ...sentinelOptions(config, config.sentinel), db })
    : new Redis(config.url, { ...COMMON, ...tlsOptions(config), db });
}

/**
 * Sentinel mode: ioredis asks the sentinels for the current master, reconnects through them
 * after a failover, and (failoverDetector) subscribes to +switch-master so it moves at once
 * instead of waiting for the old master's connection to fail.
 */
function sentinelOptions(
  config: Config['redis'],
  sentinel: NonNullable<Config['redis']['sentinel']>,
): RedisOptions {
  const creds = isSentinelUrl(config.url) ? parseSentinelUrl(config.url) : new URL(config.url);
  const tls = tlsOptions(config);
  return {
    sentinels: sentinel.hosts.map((h) => {
      const i = h.lastIndexOf(':');
      return { host: h.slice(0, i), port: Number(h.slice(i + 1)) };
    }),
    name: sentinel.name,
    role: 'master',
    failoverDetector: true,
    ...(creds.username ? { username: decodeURIComponent(creds.username) } : {}),
    ...(creds.password ? { password: decodeURIComponent(creds.password) } : {}),
    ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
    ...(tls.tls ? { ...tls, enableTLSForSentinelMode: true } : {}),
    sentinelRetryStrategy: (times) => Math.min(100 * 2 ** times, 5000),
  };
}

/**
 * Options for a short-lived connection to one more node of the topology (a replica, a cluster
 * node, a sentinel) with the credentials and TLS of the configured ones; used by the topology
 * inspection (topology.ts), never for the service's own commands.
 */
export function nodeOptions(config: Config['redis'], kind: 'data' | 'sentinel'): RedisOptions {
  const creds = isSentinelUrl(config.url) ? parseSentinelUrl(config.url) : new URL(config.url);
  const tls = tlsOptions(config);
  const base: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: () => null,
    connectionName: 'mis-cache-sync-probe',
    ...tls,
  };
  if (kind === 'sentinel')
    return config.sentinel?.password ? { ...base, password: config.sentinel.password } : base;
  return {
    ...base,
    ...(creds.username ? { username: decodeURIComponent(creds.username) } : {}),
    ...(creds.password ? { password: decodeURIComponent(creds.password) } : {}),
  };
}

/**
 * A connection to one more keyspace outside the families: the row index's DB (standalone), or
 * the cluster. Closed by the caller.
 */
export function createKeyspaceClient(
  config: Config['redis'],
  db: number,
  logger: Logger,
): RedisClients & { readonly port: RedisPort } {
  if (config.cluster) {
    const clients = createRedisClients(config, logger);
    return { ...clients, port: clients.ports.temp };
  }
  const client = standaloneClient(config, db);
  client.on('error', (err: Error) =>
    logger.debug({ where: `db ${db}`, err: err.message }, 'redis connection error'),
  );
  const port = standalonePort(client);
  const all = Object.fromEntries(FAMILIES.map((f) => [f, port])) as Record<Family, RedisPort>;
  return { ...handles(all, [client]), port };
}

function handles(ports: Record<Family, RedisPort>, raw: (Redis | Cluster)[]): RedisClients {
  return {
    ports,
    raw,
    async ready() {
      await Promise.all(raw.map((c) => (c.status === 'wait' ? c.connect() : undefined)));
      await Promise.all(raw.map((c) => c.ping()));
    },
    async close() {
      // disconnect() after QUIT also ends what a connection opened beside itself (the sentinel
      // connections of failoverDetector), which would otherwise keep the process alive
      await Promise.all(
        raw.map((c) =>
          c
            .quit()
            .catch(() => undefined)
            .finally(() => c.disconnect()),
        ),
      );
    },
  };
}

// Families sharing a DB share one port object, so a batch groups their keys together.
const portCache = new WeakMap<object, RedisPort>();

function standalonePort(client: Redis): RedisPort {
  const cached = portCache.get(client);
  if (cached) return cached;
  const scanner: ScanPort = {
    scan: (cursor, pattern, count) => client.scan(cursor, 'MATCH', pattern, 'COUNT', count),
    scanMicros: async () => scanUsec(await client.info('commandstats')),
  };
  const port: RedisPort = {
    unlink: (keys) => (keys.length === 0 ? Promise.resolve(0) : client.unlink(...keys)),
    scanNodes: () => [scanner],
    setNx: async (key, value, ttl) => (await client.set(key, value, 'EX', ttl, 'NX')) === 'OK',
    get: (key) => client.get(key),
    getBuffer: (key) => client.getBuffer(key),
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    ping: () => client.ping(),
    waitReplicas: async (replicas, timeoutMs) => [
      await ackOf(client, `${client.options.host}:${client.options.port}`, replicas, timeoutMs),
    ],
  };
  portCache.set(client, port);
  return port;
}

function clusterPort(cluster: Cluster): RedisPort {
  return {
    async unlink(keys) {
      // A multi-key command must stay within one hash slot in a cluster.
      const bySlot = new Map<number, string[]>();
      for (const key of keys) {
        const slot = calculateSlot(key);
        const list = bySlot.get(slot);
        if (list) list.push(key);
        else bySlot.set(slot, [key]);
      }
      const counts = await Promise.all(
        [...bySlot.values()].map((group) => cluster.unlink(...group)),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    scanNodes: () =>
      slotMasters(cluster).map((key) => ({
        scan: async (cursor: string, pattern: string, count: number) =>
          (await masterConnection(cluster, key)).scan(cursor, 'MATCH', pattern, 'COUNT', count),
        scanMicros: async () =>
          scanUsec(await (await masterConnection(cluster, key)).info('commandstats')),
      })),
    setNx: async (key, value, ttl) => (await cluster.set(key, value, 'EX', ttl, 'NX')) === 'OK',
    get: (key) => cluster.get(key),
    getBuffer: (key) => cluster.getBuffer(key),
    eval: (script, keys, args) => cluster.eval(script, keys.length, ...keys, ...args),
    ping: () => cluster.ping(),
    waitReplicas: (replicas, timeoutMs) =>
      Promise.all(
        slotMasters(cluster).map(async (key) =>
          ackOf(await masterConnection(cluster, key), key, replicas, timeoutMs),
        ),
      ),
  };
}

/** WAIT on one connection; INFO replication only when fewer replicas than asked acknowledged. */
async function ackOf(
  client: Redis,
  node: string,
  replicas: number,
  timeoutMs: number,
): Promise<ReplicaAck> {
  const acked = await client.wait(replicas, timeoutMs);
  if (acked >= replicas) return { node, acked, connected: acked };
  const info = await client.info('replication');
  const connected = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
  return { node, acked, connected };
}

/** `usec` of `cmdstat_scan` in an `INFO commandstats` reply (0 before the first SCAN). */
export function scanUsec(info: string): number {
  const m = /^cmdstat_scan:calls=\d+,usec=(\d+)/m.exec(info);
  return m ? Number(m[1]) : 0;
}

/**
 * The masters to SCAN, from the slot table rather than the connection pool: ioredis drops a
 * node from its pool when that connection ends (an idle `timeout` on the server, a network
 * blip) and only re-adds it on the next slot refresh, so `cluster.nodes('master')` can silently
 * miss a master and a pattern delete would leave its keys behind. Throws (the batch is retried)
 * when the table is empty (not connected) or a slot has no master.
 */
function slotMasters(cluster: Cluster): string[] {
  const masters = new Set<string>();
  for (let slot = 0; slot < 16384; slot++) {
    const master = cluster.slots[slot]?.[0];
    if (master === undefined) {
      if (cluster.status === 'wait') cluster.connect().catch(() => undefined);
      else cluster.refreshSlotsCache();
      throw new Error(`redis cluster: slot ${slot} has no known master (topology not loaded)`);
    }
    masters.add(master);
  }
  return [...masters];
}

/** The pooled connection to a master ("host:port"), reloading the topology when it was dropped. */
async function masterConnection(cluster: Cluster, key: string): Promise<Redis> {
  const find = () =>
    cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === key);
  let node = find();
  if (!node) {
    await new Promise<void>((resolve, reject) =>
      cluster.refreshSlotsCache((err) => (err ? reject(err) : resolve())),
    );
    node = find();
  }
  if (!node) throw new Error(`redis cluster: master ${key} is not connected`);
  return node;
}
