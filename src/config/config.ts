/**
 * The one place settings are read. Precedence: process environment, then the YAML file named
 * by MCS_CONFIG_FILE, then `.stack/env` (written by `npm run stack:up`), then defaults.
 * Everything is validated at start; the result is frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { configError } from '../errors';
import { isValidTimeZone } from '../rules/dates';
import { FAMILIES, isFamily, type Family } from './families';
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
  };
  readonly mysql: { readonly url: string };
  readonly time: { readonly zone: string; readonly databaseZone: string };
  readonly schedule: { readonly dailyStatsCron: string; readonly dailyStatsPattern: string };
  readonly retry: { readonly maxDelayMs: number; readonly reminderMs: number };
  readonly rules: {
    readonly snapshotInvalidates: boolean;
    readonly dir: string;
    readonly refreshFamilies: readonly Family[];
  };
  readonly log: { readonly level: LogLevel; readonly statsIntervalMs: number };
  readonly http: { readonly enabled: boolean; readonly host: string; readonly port: number };
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
    raw[spec.env] = env[spec.env] ?? fromYaml[spec.env] ?? stack[spec.env] ?? spec.default;
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
    },
    mysql: { url: get('MYSQL_URL') },
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
    },
    log: { level: get('LOG_LEVEL'), statsIntervalMs: get('MCS_STATS_INTERVAL_MS') },
    http: {
      enabled: get('MCS_HTTP_ENABLED'),
      host: get('MCS_HTTP_HOST'),
      port: get('MCS_HTTP_PORT'),
    },
  };
  checkCrossSettings(config);
  return deepFreeze(config);
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
  ] as const) {
    if (file && !existsSync(file)) throw configError(label, `file ${file} does not exist`);
  }
  if (config.rules.refreshFamilies.length > 0 && !config.mysql.url) {
    throw configError('MYSQL_URL (mysql.url)', 'is required when MCS_REFRESH_FAMILIES is set');
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
    redis: { ...config.redis, url: redactUrl(config.redis.url) },
    mysql: { url: config.mysql.url ? redactUrl(config.mysql.url) : '' },
  };
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
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
