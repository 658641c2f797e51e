/**
 * Secure stack: Kafka Connect's REST API answers only over HTTPS, to a client certificate of the
 * stack's CA (mutual TLS); plaintext HTTP and a client without a certificate are refused. The
 * `check` command (a real CLI process) reads the connector over it with MCS_CONNECT_TLS_*, and
 * passes as a whole with the service's least-privilege settings.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { requireSecureStack, runCommand } from '../support/secure';

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(url: string, options: https.RequestOptions = {}): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(u, { ...options, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
  });
}

const file = (name: string) => readFileSync(process.env[name] ?? '');

describe("secure stack: Kafka Connect's REST API", () => {
  let base = '';
  beforeAll(() => {
    requireSecureStack();
    base = process.env.CONNECT_URL ?? '';
  });

  it('is https://, and answers a client certificate of the stack CA', async () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(`${base}/connectors`, {
      ca: file('MCS_CONNECT_TLS_CA_FILE'),
      cert: file('MCS_CONNECT_TLS_CERT_FILE'),
      key: file('MCS_CONNECT_TLS_KEY_FILE'),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toContain(process.env.CONNECTOR_NAME);
  });

  it('refuses plaintext HTTP on its port', async () => {
    const plain = base.replace(/^https:/, 'http:');
    // Jetty's TLS connector either drops the connection or answers 400 to the plaintext bytes;
    // what counts: no connector list over plaintext.
    const outcome = await get(`${plain}/connectors`).then(
      (res) => `HTTP ${res.status}: ${res.body.slice(0, 200)}`,
      (err: Error) => `refused: ${err.message}`,
    );
    console.log(`CONNECT plaintext request: ${outcome}`);
    expect(outcome).not.toMatch(/^HTTP 2/);
    expect(outcome).not.toContain(process.env.CONNECTOR_NAME ?? 'mis-connector');
  });

  it('refuses an HTTPS client without a certificate', async () => {
    await expect(
      get(`${base}/connectors`, { ca: file('MCS_CONNECT_TLS_CA_FILE') }),
    ).rejects.toThrow(/certificate|alert|socket hang up|ECONNRESET/i);
  });

  it('`check` passes with the service settings, reading the connector over mutual TLS; without the client certificate it names the fix', async () => {
    const ok = await runCommand(['check']);
    const connectLines = ok.stdout.split('\n').filter((l) => /Connect|connector/.test(l));
    console.log(`CHECK exit ${ok.status}:\n${ok.stdout}`);
    expect(connectLines.join('\n')).toMatch(
      new RegExp(`✓ Kafka Connect reachable at ${base.replace(/\./g, '\\.')}`),
    );
    expect(ok.stdout).toMatch(/✓ connector \S+ RUNNING/);
    expect(connectLines.join('\n')).not.toContain('✗');
    // the least-privilege MySQL user may not read users: existsOnlyIf (verify's) is a note only
    expect(ok.stdout).toMatch(
      /! \S+users\.js targets\[0\]\.existsOnlyIf prepares: SELECT command denied/,
    );
    expect(ok.stdout).toMatch(/check passed/);
    expect(ok.status).toBe(0);

    const without = await runCommand(['check'], {
      MCS_CONNECT_TLS_CERT_FILE: undefined,
      MCS_CONNECT_TLS_KEY_FILE: undefined,
    });
    expect(without.status).toBe(1);
    expect(without.stdout).toMatch(/✗ Kafka Connect reachable at https:/);
    expect(without.stdout).toMatch(/MCS_CONNECT_TLS_CERT_FILE/);
  });
});
