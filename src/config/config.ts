/**
 * The one place settings are read. Precedence: process environment, then the YAML file named
 * by MCS_CONFIG_FILE, then `.stack/env` (written by `npm run stack:up`), then defaults.
 * Everything is validated at start; the result is frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { configError } from '../core/errors';
import { isValidTimeZone } from '../core/dates';
import { FAMILIES, isFamily, type Family } from '../core/families';
import {
  isSentinelUrl,
  parseSentinelUrl,
  redactSentinelUrl,
  type SentinelTarget,
} from './sentinel';
import { secretFromFile } from './secret-files';
import { VALUE_FORMATS, type ValueFormat, type ValueFormats } from '../core/value-formats';
import { CONFIG_FILE_ENV, SETTINGS, STACK_ENV_FILE, type SettingSpec } from './settings';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type PoisonPolicy = 'dead-letter' | 'log';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topicPrefix: string;
    readonly database: string;
    readonly groupId: string;
    readonly clientId: string;
    readonly fromBeginning: boolean;
    readonly ensureTopics: boolean;
    readonly sessionTimeoutMs: number;
    readonly partitionsConcurrency: number;
    /** Most bytes of one partition per fetch: the size of a batch. */
    readonly fetchBytesPerPartition: number;
    /** Kafka client library of the intake. */
    readonly client: 'kafkajs' | 'platformatic';
    readonly ssl: boolean;
    readonly sslCaFile: string;
    readonly sasl?: {
      readonly mechanism: SaslMechanism;
      readonly username: string;
      readonly password: string;
    };
    readonly deadLetterTopic: string;
    readonly poisonPolicy: PoisonPolicy;
    readonly maxMessageBytes: number;
  };
  readonly redis: {
    readonly url: string;
    readonly cluster: boolean;
    /** Logical DB per family (all 0 in cluster mode). */
    readonly db: Readonly<Record<Family, number>>;
    readonly ttl: Readonly<Record<Family | 'lock', number>>;
    readonly scanCount: number;
    readonly unlinkBatch: number;
    readonly tlsCaFile: string;
    readonly tlsRejectUnauthorized: boolean;
    readonly secondPassDelayMs: number;
    /** Sentinel mode: where to ask for the master (from MCS_REDIS_SENTINELS or the URL form). */
    readonly sentinel?: SentinelTarget & { readonly password: string };
    /** Replicas that must acknowledge a batch's writes before it is committed (0: no WAIT). */
    readonly waitReplicas: number;
    readonly waitTimeoutMs: number;
    readonly patternIndex: 'require' | 'configure' | 'off';
    readonly walkSharePercent: number;
    readonly patternFenceTimeoutMs: number;
    /** Logical DB of the row index (0 in cluster mode). */
    readonly rowIndexDb: number;
    /** Format of rebuilt values per family (MCS_VALUE_FORMATS); json when absent. */
    readonly valueFormats: ValueFormats;
  };
  readonly mysql: {
    readonly url: string;
    /** TLS to MySQL: verified against the CA file (or the system CAs). */
    readonly tls: { readonly enabled: boolean; readonly caFile: string };
  };
  /** Schema registry for Avro records (url empty: none). */
  readonly registry: {
    readonly url: string;
    readonly apicurioUrl: string;
    readonly username: string;
    readonly password: string;
    readonly caFile: string;
    readonly timeoutMs: number;
  };
  readonly time: { readonly zone: string; readonly databaseZone: string };
  readonly schedule: { readonly dailyStatsCron: string; readonly dailyStatsPattern: string };
  readonly retry: { readonly maxDelayMs: number; readonly reminderMs: number };
  readonly rules: {
    readonly snapshotInvalidates: boolean;
    readonly dir: string;
    readonly refreshFamilies: readonly Family[];
    /** Databases whose rows dirty keys (source.db); rows of others are skipped and counted. */
    readonly databases: readonly string[];
  };
  readonly log: { readonly level: LogLevel; readonly statsIntervalMs: number };
  readonly http: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly monitor: {
    readonly groupId: string;
    readonly sample: number;
    /** Check delays after an event, ascending (ms). */
    readonly windowsMs: readonly number[];
    readonly inService: boolean;
    readonly httpPort: number;
  };
  readonly connect: {
    readonly url: string;
    readonly connector: string;
    /** For an https:// CONNECT_URL: its CA, and the client certificate a mutual-TLS listener asks for. */
    readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  };
}

type EnvName = (typeof SETTINGS)[number]['env'];
type RawValues = Partial<Record<string, string>>;

export interface LoadOptions {
  /** Environment to read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Folder holding `.stack/env`; defaults to the current directory. */
  cwd?: string;
  /** Ignore `.stack/env` (tests that want only what they pass). */
  ignoreStackEnv?: boolean;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const stack = options.ignoreStackEnv ? {} : readStackEnv(path.join(cwd, STACK_ENV_FILE));
  const yamlFile = env[CONFIG_FILE_ENV];
  const fromYaml = yamlFile ? readYamlSettings(path.resolve(cwd, yamlFile)) : {};
  const raw: RawValues = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const fromFile = secretFromFile(spec, env, cwd); // throws when both NAME and NAME_FILE are set
    raw[spec.env] =
      env[spec.env] ?? fromFile ?? fromYaml[spec.env] ?? stack[spec.env] ?? spec.default;
  }
  return buildConfig(raw);
}

/** Validates raw text values (keyed by environment variable) into a frozen Config. */
export function buildConfig(raw: RawValues): Config {
  const get = <T>(name: EnvName): T => parseSetting(specOf(name), raw[name]) as T;
  const cluster = get<boolean>('MCS_REDIS_CLUSTER');
  const zone = get<string>('MCS_TIME_ZONE');
  const refreshFamilies = get<string[]>('MCS_REFRESH_FAMILIES');
  const badFamily = refreshFamilies.find((f) => !isFamily(f));
  if (badFamily !== undefined) {
    throw configError(
      'MCS_REFRESH_FAMILIES (rules.refreshFamilies)',
      `"${badFamily}" is not one of ${FAMILIES.join(', ')}`,
    );
  }
  const config: Config = {
    kafka: {
      brokers: get('KAFKA_BROKERS'),
      topicPrefix: get('TOPIC_PREFIX'),
      database: get('MYSQL_DATABASE'),
      groupId: get('MCS_GROUP_ID'),
      clientId: get('MCS_CLIENT_ID'),
      fromBeginning: get('MCS_FROM_BEGINNING'),
      ensureTopics: get('MCS_ENSURE_TOPICS'),
      sessionTimeoutMs: get('MCS_SESSION_TIMEOUT_MS'),
      partitionsConcurrency: get('MCS_PARTITIONS_CONCURRENCY'),
      fetchBytesPerPartition: get('MCS_FETCH_BYTES_PER_PARTITION'),
      client: oneOf(
        get('MCS_KAFKA_CLIENT'),
        ['kafkajs', 'platformatic'],
        'MCS_KAFKA_CLIENT (kafka.client)',
      ),
      ssl: get('MCS_KAFKA_SSL'),
      sslCaFile: get('MCS_KAFKA_SSL_CA_FILE'),
      ...sasl(get),
      deadLetterTopic:
        get<string>('MCS_DLQ_TOPIC') || `${get<string>('TOPIC_PREFIX')}.mis-cache-sync.dlq`,
      poisonPolicy: oneOf(
        get('MCS_POISON_POLICY'),
        ['dead-letter', 'log'],
        'MCS_POISON_POLICY (kafka.poisonPolicy)',
      ),
      maxMessageBytes: get('MCS_MAX_MESSAGE_BYTES'),
    },
    redis: {
      url: get('REDIS_URL'),
      cluster,
      db: {
        session: cluster ? 0 : get('MCS_REDIS_DB_SESSION'),
        permissions: cluster ? 0 : get('MCS_REDIS_DB_PERMISSIONS'),
        master: cluster ? 0 : get('MCS_REDIS_DB_MASTER'),
        stats: cluster ? 0 : get('MCS_REDIS_DB_STATS'),
        temp: cluster ? 0 : get('MCS_REDIS_DB_TEMP'),
      },
      ttl: {
        session: get('MCS_TTL_SESSION'),
        permissions: get('MCS_TTL_PERMISSIONS'),
        master: get('MCS_TTL_MASTER'),
        stats: get('MCS_TTL_STATS'),
        temp: get('MCS_TTL_TEMP'),
        lock: get('MCS_TTL_LOCK'),
      },
      scanCount: get('MCS_SCAN_COUNT'),
      unlinkBatch: get('MCS_UNLINK_BATCH'),
      tlsCaFile: get('MCS_REDIS_TLS_CA_FILE'),
      tlsRejectUnauthorized: get('MCS_REDIS_TLS_REJECT_UNAUTHORIZED'),
      secondPassDelayMs: get('MCS_SECOND_PASS_DELAY_MS'),
      ...sentinel(get),
      waitReplicas: get('MCS_REDIS_WAIT_REPLICAS'),
      waitTimeoutMs: get('MCS_REDIS_WAIT_TIMEOUT_MS'),
      patternIndex: oneOf(
        get('MCS_PATTERN_INDEX'),
        ['require', 'configure', 'off'],
        'MCS_PATTERN_INDEX (redis.patternIndex)',
      ),
      walkSharePercent: get('MCS_WALK_SHARE_PERCENT'),
      patternFenceTimeoutMs: get('MCS_PATTERN_FENCE_TIMEOUT_MS'),
      rowIndexDb: cluster ? 0 : get('MCS_ROW_INDEX_DB'),
      valueFormats: valueFormats(get('MCS_VALUE_FORMATS')),
    },
    mysql: {
      url: get('MYSQL_URL'),
      tls: {
        enabled: get<boolean>('MCS_MYSQL_TLS') || get<string>('MCS_MYSQL_TLS_CA_FILE') !== '',
        caFile: get('MCS_MYSQL_TLS_CA_FILE'),
      },
    },
    registry: {
      url: get('SCHEMA_REGISTRY_URL'),
      apicurioUrl: get('MCS_REGISTRY_APICURIO_URL'),
      username: get('MCS_REGISTRY_USERNAME'),
      password: get('MCS_REGISTRY_PASSWORD'),
      caFile: get('MCS_REGISTRY_CA_FILE'),
      timeoutMs: get('MCS_REGISTRY_TIMEOUT_MS'),
    },
    time: { zone, databaseZone: get<string>('MCS_DB_TIME_ZONE') || zone },
    schedule: {
      dailyStatsCron: get('MCS_DAILY_STATS_CRON'),
      dailyStatsPattern: get('MCS_DAILY_STATS_PATTERN'),
    },
    retry: { maxDelayMs: get('MCS_RETRY_MAX_DELAY_MS'), reminderMs: get('MCS_OUTAGE_REMINDER_MS') },
    rules: {
      snapshotInvalidates: get('MCS_SNAPSHOT_INVALIDATES'),
      dir: get('MCS_CONSUMERS_DIR'),
      refreshFamilies: refreshFamilies as Family[],
      databases: watchedDatabases(get('MCS_DATABASES'), get('MYSQL_URL'), get('MYSQL_DATABASE')),
    },
    log: { level: get('LOG_LEVEL'), statsIntervalMs: get('MCS_STATS_INTERVAL_MS') },
    http: {
      enabled: get('MCS_HTTP_ENABLED'),
      host: get('MCS_HTTP_HOST'),
      port: get('MCS_HTTP_PORT'),
    },
    monitor: {
      groupId: get('MCS_MONITOR_GROUP_ID'),
      sample: share(get('MCS_MONITOR_SAMPLE'), 'MCS_MONITOR_SAMPLE (monitor.sample)'),
      windowsMs: windows(get('MCS_MONITOR_WINDOWS'), 'MCS_MONITOR_WINDOWS (monitor.windows)'),
      inService: get('MCS_MONITOR_IN_SERVICE'),
      httpPort: get('MCS_MONITOR_HTTP_PORT'),
    },
    connect: {
      url: get('CONNECT_URL'),
      connector: get('CONNECTOR_NAME'),
      tls: {
        caFile: get('MCS_CONNECT_TLS_CA_FILE'),
        certFile: get('MCS_CONNECT_TLS_CERT_FILE'),
        keyFile: get('MCS_CONNECT_TLS_KEY_FILE'),
      },
    },
  };
  checkCrossSettings(config);
  return deepFreeze(config);
}

function share(text: string, label: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(text) || !(n > 0 && n <= 1))
    throw configError(label, `must be a share between 0 (excluded) and 1, got "${text}"`);
  return n;
}

/** `1s,60s,5m,500ms` → ascending milliseconds. */
export function windows(items: readonly string[], label: string): number[] {
  const unit = { ms: 1, s: 1000, m: 60_000 } as const;
  const out = items.map((item) => {
    const m = /^(\d+)(ms|s|m)$/.exec(item);
    if (!m?.[1] || !m[2] || Number(m[1]) <= 0)
      throw configError(label, `"${item}" is not a positive duration like 1s, 500ms or 5m`);
    return Number(m[1]) * unit[m[2] as keyof typeof unit];
  });
  if (out.length === 0) throw configError(label, 'must list at least one window');
  if (out.some((v, i) => i > 0 && v <= (out[i - 1] as number)))
    throw configError(label, 'windows must be ascending');
  return out;
}

/** `family=format` pairs of MCS_VALUE_FORMATS. */
function valueFormats(pairs: string[]): ValueFormats {
  const label = 'MCS_VALUE_FORMATS (redis.valueFormats)';
  const out: Partial<Record<Family, ValueFormat>> = {};
  for (const pair of pairs) {
    const [family = '', format = ''] = pair.split('=').map((s) => s.trim());
    if (!isFamily(family))
      throw configError(label, `"${pair}": family must be one of ${FAMILIES.join(', ')}`);
    if (!VALUE_FORMATS.includes(format as ValueFormat))
      throw configError(label, `"${pair}": format must be one of ${VALUE_FORMATS.join(', ')}`);
    out[family] = format as ValueFormat;
  }
  return out;
}

/** MCS_DATABASES, else the database named in MYSQL_URL's path, else MYSQL_DATABASE. */
function watchedDatabases(listed: string[], mysqlUrl: string, database: string): string[] {
  if (listed.length > 0) return listed;
  const fromUrl = /^mysql:\/\/[^/]*\/([^/?#]+)/.exec(mysqlUrl)?.[1];
  return [fromUrl ? decodeURIComponent(fromUrl) : database];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], label: string): T {
  if (!allowed.includes(value as T))
    throw configError(label, `must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function sasl(get: <T>(name: EnvName) => T): { sasl?: NonNullable<Config['kafka']['sasl']> } {
  const mechanism = get<string>('MCS_KAFKA_SASL_MECHANISM');
  if (!mechanism) return {};
  const label = 'MCS_KAFKA_SASL_MECHANISM (kafka.saslMechanism)';
  const username = get<string>('MCS_KAFKA_SASL_USERNAME');
  if (!username)
    throw configError('MCS_KAFKA_SASL_USERNAME (kafka.saslUsername)', `is required with ${label}`);
  return {
    sasl: {
      mechanism: oneOf(mechanism, ['plain', 'scram-sha-256', 'scram-sha-512'], label),
      username,
      password: get('MCS_KAFKA_SASL_PASSWORD'),
    },
  };
}

function sentinel(get: <T>(name: EnvName) => T): {
  sentinel?: NonNullable<Config['redis']['sentinel']>;
} {
  const url = get<string>('REDIS_URL');
  const password = get<string>('MCS_REDIS_SENTINEL_PASSWORD');
  const hosts = get<string[]>('MCS_REDIS_SENTINELS');
  const label = 'MCS_REDIS_SENTINELS (redis.sentinels)';
  if (isSentinelUrl(url)) {
    if (hosts.length > 0)
      throw configError(label, 'cannot be combined with a redis+sentinel:// REDIS_URL');
    const { hosts: fromUrl, name } = parseSentinelUrl(url);
    return { sentinel: { hosts: fromUrl, name, password } };
  }
  if (hosts.length === 0) return {};
  for (const h of hosts) {
    if (!/^[^\s:]+:\d{1,5}$/.test(h)) throw configError(label, `entry "${h}" is not host:port`);
  }
  return { sentinel: { hosts, name: get('MCS_REDIS_SENTINEL_MASTER'), password } };
}

/** Checks that involve more than one setting or a lookup beyond the text. */
function checkCrossSettings(config: Config): void {
  for (const [env, zone] of [
    ['MCS_TIME_ZONE (time.zone)', config.time.zone],
    ['MCS_DB_TIME_ZONE (time.databaseZone)', config.time.databaseZone],
  ] as const) {
    if (!isValidTimeZone(zone)) throw configError(env, `"${zone}" is not a known IANA time zone`);
  }
  for (const [label, file] of [
    ['MCS_KAFKA_SSL_CA_FILE (kafka.sslCaFile)', config.kafka.sslCaFile],
    ['MCS_REDIS_TLS_CA_FILE (redis.tlsCaFile)', config.redis.tlsCaFile],
    ['MCS_REGISTRY_CA_FILE (registry.caFile)', config.registry.caFile],
    ['MCS_MYSQL_TLS_CA_FILE (mysql.tlsCaFile)', config.mysql.tls.caFile],
    ['MCS_CONNECT_TLS_CA_FILE (connect.tlsCaFile)', config.connect.tls.caFile],
    ['MCS_CONNECT_TLS_CERT_FILE (connect.tlsCertFile)', config.connect.tls.certFile],
    ['MCS_CONNECT_TLS_KEY_FILE (connect.tlsKeyFile)', config.connect.tls.keyFile],
  ] as const) {
    if (file && !existsSync(file)) throw configError(label, `file ${file} does not exist`);
  }
  if (Boolean(config.connect.tls.certFile) !== Boolean(config.connect.tls.keyFile)) {
    throw configError(
      'MCS_CONNECT_TLS_CERT_FILE (connect.tlsCertFile)',
      'goes with MCS_CONNECT_TLS_KEY_FILE (connect.tlsKeyFile): set both or neither',
    );
  }
  if (config.rules.refreshFamilies.length > 0 && !config.mysql.url) {
    throw configError('MYSQL_URL (mysql.url)', 'is required when MCS_REFRESH_FAMILIES is set');
  }
  if (config.registry.url && !/^https?:\/\//.test(config.registry.url)) {
    throw configError('SCHEMA_REGISTRY_URL (registry.url)', 'must start with http:// or https://');
  }
  if (config.monitor.inService && !config.mysql.url) {
    throw configError('MYSQL_URL (mysql.url)', 'is required when MCS_MONITOR_IN_SERVICE is on');
  }
  if (config.mysql.url && !/^mysql:\/\//.test(config.mysql.url)) {
    throw configError('MYSQL_URL (mysql.url)', 'must start with mysql://');
  }
  if (config.schedule.dailyStatsCron) {
    try {
      new Cron(config.schedule.dailyStatsCron, { paused: true, timezone: config.time.zone }).stop();
    } catch (err) {
      throw configError(
        'MCS_DAILY_STATS_CRON (schedule.dailyStatsCron)',
        `is not a valid cron expression: ${(err as Error).message}`,
      );
    }
  }
  if (config.monitor.groupId === config.kafka.groupId) {
    throw configError(
      'MCS_MONITOR_GROUP_ID (monitor.groupId)',
      `must differ from MCS_GROUP_ID (${config.kafka.groupId}): the monitor never joins the service's group`,
    );
  }
  if (!config.schedule.dailyStatsPattern.includes('{date}')) {
    throw configError(
      'MCS_DAILY_STATS_PATTERN (schedule.dailyStatsPattern)',
      'must contain {date}',
    );
  }
}

function specOf(name: EnvName): SettingSpec {
  const spec = SETTINGS.find((s) => s.env === name);
  if (!spec) throw new Error(`unknown setting ${name}`);
  return spec;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseSetting(spec: SettingSpec, value: string | undefined): unknown {
  const label = `${spec.env} (${spec.yaml})`;
  if (value === undefined || (value.trim() === '' && spec.default === undefined)) {
    throw configError(label, 'is required but not set');
  }
  const text = value.trim();
  switch (spec.type) {
    case 'string':
      return text;
    case 'level':
      if (!LEVELS.includes(text)) throw configError(label, `must be one of ${LEVELS.join(', ')}`);
      return text;
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw configError(label, `must be true or false, got "${text}"`);
    case 'int': {
      if (!/^-?\d+$/.test(text)) throw configError(label, `must be a whole number, got "${text}"`);
      const n = Number(text);
      if (spec.min !== undefined && n < spec.min)
        throw configError(label, `must be >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw configError(label, `must be <= ${spec.max}`);
      return n;
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'hosts': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length === 0) throw configError(label, 'must list at least one entry');
      for (const item of items) {
        if (!/^[^\s:]+:\d{1,5}$/.test(item)) {
          throw configError(label, `entry "${item}" is not host:port`);
        }
      }
      return items;
    }
    case 'url': {
      if (isSentinelUrl(text)) {
        try {
          parseSentinelUrl(text);
        } catch (err) {
          throw configError(label, (err as Error).message);
        }
        return text;
      }
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw configError(label, 'is not a valid URL');
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
        throw configError(label, `must start with redis:// or rediss://, got ${url.protocol}//`);
      }
      return text;
    }
  }
}

/** Reads `export NAME=value` / `NAME=value` lines; quotes around the value are removed. */
export function readStackEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function readYamlSettings(file: string): Record<string, string> {
  if (!existsSync(file)) throw configError(CONFIG_FILE_ENV, `file ${file} does not exist`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw configError(CONFIG_FILE_ENV, `${file} is not valid YAML: ${(err as Error).message}`);
  }
  const flat = flatten(doc ?? {}, '');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(flat)) {
    const spec = SETTINGS.find((s) => s.yaml === key);
    if (!spec) throw configError(`${file}: ${key}`, 'is not a known setting');
    out[spec.env] = value;
  }
  return out;
}

function flatten(node: unknown, prefix: string): Record<string, string> {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    const text = Array.isArray(node) ? node.join(',') : String(node);
    return { [prefix]: text };
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(node)) {
    Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A copy of the configuration safe to print: passwords replaced. */
export function redactConfig(config: Config): unknown {
  return {
    ...config,
    kafka: {
      ...config.kafka,
      ...(config.kafka.sasl ? { sasl: { ...config.kafka.sasl, password: '***' } } : {}),
    },
    redis: {
      ...config.redis,
      url: redactUrl(config.redis.url),
      ...(config.redis.sentinel?.password
        ? { sentinel: { ...config.redis.sentinel, password: '***' } }
        : {}),
    },
    mysql: { ...config.mysql, url: config.mysql.url ? redactUrl(config.mysql.url) : '' },
    registry: {
      ...config.registry,
      url: config.registry.url ? redactUrl(config.registry.url) : '',
      password: config.registry.password ? '***' : '',
    },
  };
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  if (isSentinelUrl(url)) return redactSentinelUrl(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.searchParams.forEach((_v, k) => {
      if (/pass|secret|token/i.test(k)) u.searchParams.set(k, '***');
    });
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
