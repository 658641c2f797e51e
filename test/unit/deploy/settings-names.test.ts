/**
 * Every environment variable the deployment forms set is a setting of the table
 * (src/config/settings), and every secret is given as a `*_FILE` path, never as a value.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_ENV, SETTINGS, type SettingSpec } from '../../../src/config/settings';
import { FILE_SUFFIX } from '../../../src/config/secret-files';
import { DEPLOY, keyValues, kustomize, one, parseAll } from './render';

const PLAIN = new Set<string>(SETTINGS.map((s) => s.env));
const SECRET = new Set<string>(
  (SETTINGS as readonly SettingSpec[]).filter((s) => s.secret).map((s) => s.env),
);
// Not settings of the table but read by the runtime: Node's own, and the config file's path.
const OTHERS = new Set(['NODE_ENV', CONFIG_FILE_ENV]);

/** Names the table does not know, and secrets given as values. */
function problems(names: string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (SECRET.has(name)) out.push(`${name}: a secret, give it as ${name}${FILE_SUFFIX}`);
    else if (name.endsWith(FILE_SUFFIX) && SECRET.has(name.slice(0, -FILE_SUFFIX.length))) continue;
    else if (!PLAIN.has(name) && !OTHERS.has(name)) out.push(`${name}: not in the settings table`);
  }
  return out;
}

function kubernetesNames(): string[] {
  const manifests = parseAll(kustomize('kubernetes/overlays/example'));
  const pod = one(manifests, 'Deployment', 'mis-cache-sync').spec.template.spec;
  const names: string[] = [];
  for (const c of pod.containers) {
    for (const e of c.env ?? []) names.push(e.name);
    for (const from of c.envFrom ?? []) {
      const cm = one(manifests, 'ConfigMap', from.configMapRef.name);
      names.push(...Object.keys(cm.data ?? {}));
    }
  }
  return names;
}

function systemdNames(): string[] {
  const env = keyValues(
    readFileSync(path.join(DEPLOY, 'systemd/mis-cache-sync.env.example'), 'utf8'),
  );
  const unit = readFileSync(path.join(DEPLOY, 'systemd/mis-cache-sync.service'), 'utf8');
  const inUnit = [...unit.matchAll(/^Environment=(.*)$/gm)].flatMap((m) =>
    (m[1] ?? '').split(/\s+/).map((kv) => kv.split('=')[0] ?? ''),
  );
  return [...env.keys(), ...inUnit];
}

describe('deployment settings names', () => {
  it('the check catches an unknown name and a secret given as a value', () => {
    expect(problems(['MCS_HTTP_PORTT', 'REDIS_URL', 'REDIS_URL_FILE', 'MCS_HTTP_PORT'])).toEqual([
      'MCS_HTTP_PORTT: not in the settings table',
      'REDIS_URL: a secret, give it as REDIS_URL_FILE',
    ]);
    expect(SECRET.size).toBeGreaterThanOrEqual(3);
  });

  it('the Kubernetes Deployment and its ConfigMap set only settings of the table', () => {
    const names = kubernetesNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'KAFKA_BROKERS',
        'REDIS_URL_FILE',
        'MYSQL_URL_FILE',
        'MCS_KAFKA_SASL_PASSWORD_FILE',
      ]),
    );
    expect(problems(names)).toEqual([]);
  });

  it('the systemd unit and its example environment file set only settings of the table', () => {
    const names = systemdNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'KAFKA_BROKERS',
        'REDIS_URL_FILE',
        'MYSQL_URL_FILE',
        'MCS_KAFKA_SASL_PASSWORD_FILE',
      ]),
    );
    expect(problems(names)).toEqual([]);
  });
});
