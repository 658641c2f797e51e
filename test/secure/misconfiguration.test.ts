/**
 * Secure stack: each misconfiguration stops the service at start, by itself, with exit code 2
 * and one error naming the part and the fix, without printing a secret. The start time of each
 * is printed (MISCONFIG lines); the bound asserted is only "it exited on its own".
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/service-process';
import { otherCa, redisAdmin, mysqlRoot, requireSecureStack, tryStart } from '../support/secure';
import { stackEnv, uniq } from '../support/stack';

/** The service's Redis ACL as the secure stack sets it (scripts/stack/secure.sh). */
function stackServiceAcl(): string[] {
  const text = readFileSync(path.join(ROOT, 'scripts', 'stack', 'secure.sh'), 'utf8');
  const m = /^REDIS_SERVICE_ACL='([^']*)'/m.exec(text);
  if (!m?.[1]) throw new Error('REDIS_SERVICE_ACL not found in scripts/stack/secure.sh');
  return m[1].split(' ');
}

const DEADLINE_MS = 30_000;

describe('secure stack: misconfigurations fail at start', () => {
  const secrets = [
    process.env.MCS_KAFKA_SASL_PASSWORD ?? '',
    new URL(stackEnv('REDIS_URL')).password,
    new URL(stackEnv('MYSQL_URL')).password,
  ];
  let ca: ReturnType<typeof otherCa>;

  beforeAll(() => {
    requireSecureStack();
    ca = otherCa();
  });
  afterAll(() => ca?.cleanup());

  async function expectRefusal(
    name: string,
    env: Record<string, string | undefined>,
    expected: RegExp[],
    extraSecrets: string[] = [],
  ) {
    const run = await tryStart(
      { MCS_GROUP_ID: `mis-cache-sync-test-${uniq()}`, ...env },
      DEADLINE_MS,
    );
    console.log(`MISCONFIG ${name}: exit ${run.status} after ${(run.ms / 1000).toFixed(1)} s`);
    expect(run.status).toBe(2);
    const line = run.output.split('\n').find((l) => l.includes('"cannot start:'));
    expect(line).toBeDefined();
    const fatal = JSON.parse(line ?? '{}') as { code?: string; msg?: string };
    for (const re of expected) expect(`${fatal.code}: ${fatal.msg}`).toMatch(re);
    for (const s of [...secrets, ...extraSecrets]) {
      expect(s.length).toBeGreaterThan(8);
      expect(run.output).not.toContain(s);
    }
  }

  it("the stack's Redis ACL for the service is docs/security.md's", () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'security.md'), 'utf8');
    const line = doc.split('\n').find((l) => l.startsWith('ACL SETUSER mis-cache-sync '));
    expect(line?.split(' ').slice(5)).toEqual(stackServiceAcl()); // after `on >password`
  });

  it('wrong SASL password', async () => {
    const wrong = `wrong-${uniq()}-password`;
    await expectRefusal(
      'kafka sasl password',
      { MCS_KAFKA_SASL_PASSWORD: wrong },
      [
        /kafka \(127\.0\.0\.1:\d+\)/,
        /SASL authentication as "mis-cache-sync"/,
        /MCS_KAFKA_SASL_PASSWORD/,
        /AUTH_FAILED/,
      ],
      [wrong],
    );
  });

  it('Kafka certificate from an untrusted CA', async () => {
    await expectRefusal('kafka untrusted ca', { MCS_KAFKA_SSL_CA_FILE: ca.file }, [
      /kafka \(127\.0\.0\.1:\d+\)/,
      /certificate is not trusted/,
      /MCS_KAFKA_SSL_CA_FILE/,
    ]);
  });

  it('Redis certificate from an untrusted CA', async () => {
    await expectRefusal('redis untrusted ca', { MCS_REDIS_TLS_CA_FILE: ca.file }, [
      /redis \(127\.0\.0\.1:\d+\)/,
      /certificate is not trusted/,
      /MCS_REDIS_TLS_CA_FILE/,
    ]);
  });

  it('MySQL certificate from an untrusted CA', async () => {
    await expectRefusal(
      'mysql untrusted ca',
      { MCS_MYSQL_TLS_CA_FILE: ca.file, MCS_REFRESH_FAMILIES: 'master' },
      [/mysql \(127\.0\.0\.1:\d+\/mis\)/, /certificate is not trusted/, /MCS_MYSQL_TLS_CA_FILE/],
    );
  });

  it('wrong Redis password', async () => {
    const u = new URL(stackEnv('REDIS_URL'));
    const wrong = `wrong-${uniq()}-password`;
    u.password = wrong;
    await expectRefusal(
      'redis password',
      { REDIS_URL: u.toString() },
      [
        /redis \(rediss:\/\/mis-cache-sync:\*\*\*@127\.0\.0\.1:\d+\)/,
        /refused the credentials/,
        /REDIS_URL/,
      ],
      [wrong],
    );
  });

  it('a Redis ACL user lacking a command the service needs (ZADD)', async () => {
    const user = `mcs-noacl-${uniq()}`;
    const password = `pw-${uniq()}-secret`;
    const admin = redisAdmin();
    const acl = stackServiceAcl().filter((r) => r !== '+zadd');
    await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...acl);
    try {
      const u = new URL(stackEnv('REDIS_URL'));
      u.username = user;
      u.password = password;
      await expectRefusal(
        'redis acl lacks zadd',
        { REDIS_URL: u.toString() },
        [
          new RegExp(`the ACL user "${user}" may not run 1 command`),
          /zadd mcs:second-pass/,
          /Production security/,
          /ACCESS_DENIED/,
        ],
        [password],
      );
    } finally {
      await admin.call('ACL', 'DELUSER', user);
      await admin.quit();
    }
  });

  it("a MySQL user that cannot read a loader's table (products)", async () => {
    const user = `mcs-noprod-${uniq()}`;
    const password = `pw${uniq()}secret`;
    mysqlRoot(
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}' REQUIRE SSL;` +
        `GRANT SELECT ON mis.departments TO '${user}'@'%'; GRANT SELECT ON mis.brands TO '${user}'@'%';`,
    );
    try {
      const u = new URL(stackEnv('MYSQL_URL'));
      u.username = user;
      u.password = password;
      await expectRefusal(
        'mysql cannot read products',
        { MYSQL_URL: u.toString(), MCS_REFRESH_FAMILIES: 'master' },
        [/mysql \(127\.0\.0\.1:\d+\/mis\)/, /products/, /GRANT SELECT ON/, /ACCESS_DENIED/],
        [password],
      );
    } finally {
      mysqlRoot(`DROP USER '${user}'@'%'`);
    }
  });

  it('a secret file that cannot be read is a configuration error naming the variable', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcs-secret-'));
    try {
      const missing = path.join(dir, 'missing');
      const run = await tryStart({
        MCS_KAFKA_SASL_PASSWORD: undefined,
        MCS_KAFKA_SASL_PASSWORD_FILE: missing,
      });
      expect(run.status).toBe(2);
      expect(run.output).toMatch(
        /MCS_KAFKA_SASL_PASSWORD_FILE \(kafka\.saslPassword\): cannot read .*ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
