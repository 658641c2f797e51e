import { buildConfig, redactConfig, type Config } from '../../../src/config/config';
import { SETTINGS, type SettingSpec } from '../../../src/config/settings';

// The settings table is the one declaration: these checks derive from it, so a setting added
// without its place in Config, or a secret the printed configuration shows, fails here.
const specs = SETTINGS as readonly SettingSpec[];
const defaults = Object.fromEntries(
  specs.filter((s) => s.default !== undefined).map((s) => [s.env, s.default]),
);
/** Every optional group present: SASL, Sentinel, value formats, MySQL. */
const full: Record<string, string | undefined> = {
  ...defaults,
  KAFKA_BROKERS: 'k:9092',
  REDIS_URL: 'redis://r:6379',
  MYSQL_URL: 'mysql://m:3306/mis',
  MCS_KAFKA_SASL_MECHANISM: 'plain',
  MCS_KAFKA_SASL_USERNAME: 'svc',
  MCS_REDIS_SENTINELS: 's1:26379',
  MCS_VALUE_FORMATS: 'master=pickle',
};

function at(config: Config, place: string): unknown {
  let node: unknown = config;
  for (const part of place.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** Dotted paths of the values in a config (arrays and scalars are values). */
function leaves(node: unknown, prefix = ''): string[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [prefix];
  return Object.entries(node).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe('settings table', () => {
  const config = buildConfig(full);

  it.each(specs.map((s) => [s.env, s.at]))('%s has its place in Config (%s)', (_env, place) => {
    expect(typeof place).toBe('string');
    expect(at(config, place)).toBeDefined();
  });

  it('gives every place of Config one setting, and every setting its own name and YAML key', () => {
    const places = specs.map((s) => s.at);
    const filled = (leaf: string) => places.some((p) => leaf === p || leaf.startsWith(`${p}.`));
    expect(leaves(config).filter((leaf) => !filled(leaf))).toEqual([]);
    for (const key of ['at', 'env', 'yaml'] as const) {
      const values = specs.map((s) => s[key]);
      expect(values.filter((v, i) => values.indexOf(v) !== i)).toEqual([]);
    }
  });

  // A value for each secret (or URL-redacted) setting, holding a marker that must not be printed.
  const URL_FORMS: Record<string, (password: string) => string> = {
    REDIS_URL: (p) => `redis://svc:${p}@r:6379`,
    MYSQL_URL: (p) => `mysql://svc:${p}@m:3306/mis`,
    SCHEMA_REGISTRY_URL: (p) => `http://svc:${p}@registry:8080/apis/ccompat/v7`,
  };
  const redacted = specs.filter((s) => s.secret || s.redact);

  it('knows a URL form for every setting redacted as a URL', () => {
    expect(redacted.filter((s) => s.redact === 'url' && !URL_FORMS[s.env])).toEqual([]);
  });

  it('prints no secret: the value at the place of every secret setting is redacted', () => {
    const marker = (s: SettingSpec) => `s3cret-${s.env.toLowerCase()}`;
    const raw: Record<string, string | undefined> = { ...full };
    for (const s of redacted)
      raw[s.env] = s.redact === 'url' ? URL_FORMS[s.env]!(marker(s)) : marker(s);
    const secretConfig = buildConfig(raw);
    const shown = JSON.stringify(secretConfig);
    const printed = JSON.stringify(redactConfig(secretConfig));
    expect(redacted.length).toBeGreaterThanOrEqual(5);
    for (const s of redacted) {
      expect(shown).toContain(marker(s)); // the secret is in the configuration…
      expect(printed).not.toContain(marker(s)); // …and not in what is printed
    }
    // What is not secret stays as it is.
    expect(redactConfig(secretConfig)).toMatchObject({ kafka: { sasl: { username: 'svc' } } });
  });
});
