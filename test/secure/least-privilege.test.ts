/**
 * Secure stack, from the other side: what the service's own users may NOT do on each part, a
 * plaintext client refused by each part, and the service started with its secrets from files
 * (`*_FILE`), printing them nowhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import connect, { sql } from '@databases/mysql';
import Redis from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { withTls } from '../../src/mysql/loader';
import { ROOT, startServiceProcess } from '../support/service-process';
import { mysqlRoot, requireSecureStack } from '../support/secure';
import { appMysqlUrl, kafka, redisTls, stackEnv, uniq } from '../support/stack';

const CA = () => process.env.MCS_MYSQL_TLS_CA_FILE ?? '';

describe('secure stack: least privilege and no plaintext', () => {
  beforeAll(() => requireSecureStack());

  describe('the service principal on Kafka', () => {
    it('cannot produce to a change topic', async () => {
      const producer = kafka().producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 0 },
      });
      await producer.connect();
      try {
        await expect(
          producer.send({ topic: 'mis.mis.brands', messages: [{ value: 'forged' }] }),
        ).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await producer.disconnect();
      }
    });

    it('cannot read a topic other than the change topics (schema history)', async () => {
      const consumer = kafka().consumer({
        groupId: `mis-cache-sync-test-${uniq()}`,
        retry: { retries: 0 },
      });
      await consumer.connect();
      try {
        await expect(
          consumer.subscribe({ topics: ['mis.schema-history'], fromBeginning: true }),
        ).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await consumer.disconnect();
      }
    });

    it('cannot use a consumer group outside mis-cache-sync*, nor create topics', async () => {
      const admin = kafka().admin({ retry: { retries: 0 } });
      await admin.connect();
      try {
        // A group of its own prefix answers (first, so the coordinator has finished loading on a
        // freshly started broker: "coordinator is loading" is retried, nothing else is);
        // kafkajs reports the refused FindCoordinator of another group as "coordinator not found".
        const own = `mis-cache-sync-test-${uniq()}`;
        let offsets: unknown[] | undefined;
        for (let attempt = 0; offsets === undefined; attempt++) {
          try {
            offsets = await admin.fetchOffsets({ groupId: own, topics: ['mis.mis.brands'] });
          } catch (err) {
            if (attempt >= 40 || !/coordinator is loading/i.test(String(err))) throw err;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        expect(offsets).toHaveLength(1);
        await expect(
          admin.fetchOffsets({ groupId: `other-${uniq()}`, topics: ['mis.mis.brands'] }),
        ).rejects.toThrow(/group coordinator|GROUP_AUTHORIZATION/i);
        await expect(
          admin.createTopics({ topics: [{ topic: `mis.mis.acl_probe_${uniq()}` }] }),
        ).rejects.toMatchObject({
          errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
        });
        // and what it needs works: the end offsets of a change topic
        expect((await admin.fetchTopicOffsets('mis.mis.brands')).length).toBe(1);
      } finally {
        await admin.disconnect();
      }
    });
  });

  describe("the service's Redis user", () => {
    let svc: Redis;
    beforeAll(() => {
      const url = stackEnv('REDIS_URL');
      svc = new Redis(url, { maxRetriesPerRequest: 0, ...redisTls(url) });
    });
    afterAll(async () => svc?.quit());

    it('cannot FLUSHDB, FLUSHALL, CONFIG SET, KEYS or read keys outside its patterns', async () => {
      await expect(svc.flushdb()).rejects.toThrow(/NOPERM/);
      await expect(svc.flushall()).rejects.toThrow(/NOPERM/);
      await expect(svc.config('SET', 'maxmemory', '1')).rejects.toThrow(/NOPERM/);
      await expect(svc.keys('*')).rejects.toThrow(/NOPERM/);
      await expect(svc.get('queue:job:1')).rejects.toThrow(/NOPERM/); // the app's job queue
      await expect(svc.hgetall('session:user:1')).rejects.toThrow(/NOPERM/);
      await expect(svc.set('other:key', 'x')).rejects.toThrow(/NOPERM/);
      expect(await svc.ping()).toBe('PONG');
    });
  });

  describe("the service's MySQL user", () => {
    it('reads the loaders\u2019 tables only, and writes nothing', async () => {
      const pool = connect({
        connectionString: withTls(stackEnv('MYSQL_URL'), { enabled: true, caFile: CA() }),
        poolSize: 1,
      });
      try {
        expect((await pool.query(sql`SELECT COUNT(*) AS n FROM brands`))[0].n).toBeGreaterThan(0);
        await expect(pool.query(sql`SELECT * FROM users LIMIT 1`)).rejects.toThrow(
          /SELECT command denied/,
        );
        await expect(
          pool.query(sql`UPDATE brands SET sort = sort WHERE brand_id = 1`),
        ).rejects.toThrow(/UPDATE command denied/);
      } finally {
        await pool.dispose();
      }
    });
  });

  describe('a plaintext client is refused by each part', () => {
    it('Kafka: no TLS, even with the right SASL credentials', async () => {
      const plain = new Kafka({
        clientId: `mcs-plain-${uniq()}`,
        brokers: stackEnv('KAFKA_BROKERS').split(','),
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3000,
        retry: { retries: 0 },
        sasl: {
          mechanism: 'scram-sha-512',
          username: process.env.MCS_KAFKA_SASL_USERNAME ?? '',
          password: process.env.MCS_KAFKA_SASL_PASSWORD ?? '',
        },
      });
      const admin = plain.admin();
      await expect(admin.connect()).rejects.toThrow();
      await admin.disconnect();
    });

    it('Redis: no TLS, even with the right ACL user', async () => {
      const url = stackEnv('REDIS_URL').replace(/^rediss:/, 'redis:');
      const plain = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        connectTimeout: 3000,
        retryStrategy: () => null,
      });
      plain.on('error', () => undefined);
      await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
      plain.disconnect();
    });

    it('MariaDB: no TLS, even as the application user or a user not marked REQUIRE SSL', async () => {
      const app = connect({ connectionString: appMysqlUrl(), poolSize: 1 });
      try {
        await expect(app.query(sql`SELECT 1`)).rejects.toThrow(/Access denied/);
        // the same user over TLS is let in (the refusal above is about the transport)
        const tlsApp = connect({
          connectionString: withTls(appMysqlUrl(), { enabled: true, caFile: CA() }),
          poolSize: 1,
        });
        expect(await tlsApp.query(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
        await tlsApp.dispose();
      } finally {
        await app.dispose();
      }
      // require_secure_transport=ON: a user without REQUIRE SSL is refused too (MariaDB 10.11
      // answers "Access denied") and let in with the same password over TLS
      const user = `mcs-plain-${uniq()}`;
      mysqlRoot(
        `CREATE USER '${user}'@'%' IDENTIFIED BY 'plain-password'; GRANT SELECT ON mis.brands TO '${user}'@'%';`,
      );
      const plain = connect({
        connectionString: `mysql://${user}:plain-password@127.0.0.1:${process.env.STACK_MYSQL_PORT}/mis`,
        poolSize: 1,
      });
      try {
        await expect(plain.query(sql`SELECT 1`)).rejects.toThrow(/Access denied/);
        const overTls = connect({
          connectionString: withTls(
            `mysql://${user}:plain-password@127.0.0.1:${process.env.STACK_MYSQL_PORT}/mis`,
            { enabled: true, caFile: CA() },
          ),
          poolSize: 1,
        });
        expect(await overTls.query(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
        await overTls.dispose();
      } finally {
        await plain.dispose();
        mysqlRoot(`DROP USER '${user}'@'%'`);
      }
    });
  });

  it('the service runs with its secrets from files and never prints them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcs-secrets-'));
    const secrets = {
      MCS_KAFKA_SASL_PASSWORD: process.env.MCS_KAFKA_SASL_PASSWORD ?? '',
      REDIS_URL: stackEnv('REDIS_URL'),
      MYSQL_URL: stackEnv('MYSQL_URL'),
    };
    const files: Record<string, string> = {};
    for (const [name, value] of Object.entries(secrets)) {
      const file = path.join(dir, name.toLowerCase());
      writeFileSync(file, `${value}\n`, { mode: 0o600 });
      files[`${name}_FILE`] = file;
    }
    const passwords = [
      secrets.MCS_KAFKA_SASL_PASSWORD,
      new URL(secrets.REDIS_URL).password,
      new URL(secrets.MYSQL_URL).password,
    ];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !(k in secrets)) env[k] = v;
    }
    try {
      const printed = execFileSync('node', [path.join(ROOT, 'dist/src/cli/main.js'), 'config'], {
        env: { ...env, ...files },
        cwd: os.tmpdir(),
      }).toString();
      expect(printed).toContain('"username": "mis-cache-sync"');
      expect(printed).toContain('rediss://mis-cache-sync:***@');
      for (const p of passwords) expect(printed).not.toContain(p);

      // startServiceProcess merges process.env: take the secrets out of it for this run
      const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
      for (const k of Object.keys(secrets)) delete process.env[k];
      // Lower-precedence wrong values (YAML over .stack/env): used only if a file were ignored.
      const yaml = path.join(dir, 'wrong.yaml');
      writeFileSync(
        yaml,
        [
          'kafka:',
          '  saslPassword: wrong-password',
          'redis:',
          `  url: ${secrets.REDIS_URL.replace(/:[^:@/]+@/, ':wrong-password@')}`,
          'mysql:',
          `  url: ${secrets.MYSQL_URL.replace(/:[^:@/]+@/, ':wrong-password@')}`,
        ].join('\n'),
      );
      let proc;
      try {
        proc = await startServiceProcess({
          ...files,
          MCS_CONFIG_FILE: yaml,
          MCS_GROUP_ID: `mis-cache-sync-test-${uniq()}`,
          MCS_REFRESH_FAMILIES: 'master',
          LOG_LEVEL: 'debug',
        });
      } finally {
        Object.assign(process.env, saved);
      }
      expect(proc.output()).toContain('"consuming change events"');
      proc.child.kill('SIGTERM');
      await proc.exited;
      for (const p of passwords) expect(proc.output()).not.toContain(p);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
