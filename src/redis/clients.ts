/**
 * One ioredis connection per logical DB role. Connections fail fast (no endless offline
 * queue): a command Redis cannot take errors out quickly, and the batch loop decides to retry,
 * so an outage stalls consumption instead of piling up commands in memory.
 */
import Redis from 'ioredis';
import type { Config, DbRole } from '../config/config';
import type { Logger } from '../telemetry/logger';
import type { RedisPort } from './port';

export interface RedisClients {
  readonly ports: Readonly<Record<DbRole, RedisPort>>;
  /** Waits until every connection is ready. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createRedisClients(config: Config['redis'], logger: Logger): RedisClients {
  const clients = new Map<number, Redis>();
  const clientFor = (db: number): Redis => {
    let client = clients.get(db);
    if (!client) {
      client = new Redis(config.url, {
        db,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
        connectTimeout: 5000,
        retryStrategy: (times) => Math.min(100 * 2 ** times, 5000),
        connectionName: 'mis-cache-sync',
      });
      // Errors surface through the commands that fail; logging each reconnect attempt here
      // would flood the log during an outage.
      client.on('error', (err) => logger.debug({ db, err: err.message }, 'redis connection error'));
      clients.set(db, client);
    }
    return client;
  };
  // Roles that share a DB number share a connection.
  const ports = {
    session: clientFor(config.db.session),
    cache: clientFor(config.db.cache),
    temp: clientFor(config.db.temp),
  };
  return {
    ports,
    async ready() {
      await Promise.all(
        [...clients.values()].map((c) => (c.status === 'wait' ? c.connect() : undefined)),
      );
      await Promise.all([...clients.values()].map((c) => c.ping()));
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
