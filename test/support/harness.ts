/**
 * The shared preamble of the tests on the real stack. `useStack()`, called in a describe block,
 * hands out the MariaDB pool, one Redis client per logical DB and a service starter, and undoes
 * them after the block's tests: the services stopped first, then the block's own cleanups
 * (`cleanup`), then the connections closed. Each test still owns its ids, key prefixes and
 * rows, and cleans them up.
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { RunningService } from '../../src/app/service';
import type { Config } from '../../src/config/config';
import { createRedisClients, type RedisClients } from '../../src/redis/clients';
import { silentLogger } from '../../src/telemetry/logger';
import { mysqlPool, redisDb, startCaughtUp, testConfig } from './stack';

export interface Stack {
  /** The MariaDB pool (the application's credentials), made on first use. */
  readonly db: ConnectionPool;
  /**
   * The client on logical DB `n` (one a DB). Asked for while the block is defined, it connects in
   * the block's beforeAll (a skipped block opens nothing); asked for later, at once.
   */
  redis(n: number): Redis;
  /**
   * The service's own Redis clients (`createRedisClients`), made now, ready before the block's
   * tests (ask while the block is defined) and closed after its cleanups.
   */
  redisClients(config: Config['redis']): RedisClients;
  /** `startCaughtUp(config)`; stopped after the block's tests (a second `stop()` is a no-op). */
  startService(config?: Config): Promise<RunningService>;
  /** Runs after the block's tests, once its services are stopped, before the connections close. */
  cleanup(fn: () => unknown): void;
}

export function useStack(): Stack {
  let pool: ConnectionPool | undefined;
  const clients = new Map<number, Redis>();
  const serviceClients: RedisClients[] = [];
  const stops: (() => Promise<void>)[] = [];
  const cleanups: (() => unknown)[] = [];
  let running = false;

  beforeAll(async () => {
    running = true;
    await Promise.all([...clients.values()].map((c) => c.connect()));
    await Promise.all(serviceClients.map((c) => c.ready()));
  });
  afterAll(async () => {
    try {
      for (const stop of stops.splice(0)) await stop();
      for (const fn of cleanups.splice(0)) await fn();
    } finally {
      for (const c of serviceClients.splice(0)) await c.close();
      await Promise.all(
        [...clients.values()].map((c) => (c.status === 'wait' ? c.disconnect() : c.quit())),
      );
      await pool?.dispose();
    }
  });

  return {
    get db() {
      return (pool ??= mysqlPool());
    },
    redis(n) {
      let client = clients.get(n);
      if (!client) clients.set(n, (client = redisDb(n, { lazyConnect: !running })));
      return client;
    },
    redisClients(config) {
      const c = createRedisClients(config, silentLogger());
      serviceClients.push(c);
      return c;
    },
    async startService(config = testConfig()) {
      const service = await startCaughtUp(config);
      const stop = service.stop.bind(service);
      let stopped: Promise<void> | undefined;
      service.stop = () => (stopped ??= stop());
      stops.push(service.stop);
      return service;
    },
    cleanup(fn) {
      cleanups.push(fn);
    },
  };
}
