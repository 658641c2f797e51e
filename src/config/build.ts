/**
 * From raw text values to Config: every setting of the table parsed and put at its place
 * (`at`), which gives Settings, a type computed from the table; then the few places derived
 * from more than one setting, then the checks across settings. Config's type is Settings with
 * those places (types.ts), so a derivation that drops or mistypes a place does not compile.
 */
import { configError } from '../core/errors';
import { checkCrossSettings, checkWatchedDatabases } from './checks';
import { oneOf, parseSetting } from './parse';
import { isSentinelUrl, parseSentinelUrl } from './sentinel';
import { SETTINGS, settingLabel, specOf, type EnvName, type Settings } from './settings';
import type { SettingSpec } from './spec';
import { SASL_MECHANISMS } from './choices';
import type { Config } from './types';

/** Text values keyed by environment variable (defaults already applied: see loadConfig). */
export type RawValues = Partial<Record<string, string>>;

/** Validates raw text values (keyed by environment variable) into a frozen Config. */
export function buildConfig(raw: RawValues): Config {
  const config = derive(readSettings(raw));
  checkCrossSettings(config);
  return deepFreeze(config);
}

/** Each setting parsed, at its place; the one cast between the table and its computed type. */
function readSettings(raw: RawValues): Settings {
  const tree: Record<string, unknown> = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    putAt(
      tree,
      spec.at,
      isRead(spec, raw) ? parseSetting(spec, raw[spec.env]) : spec.readIf?.otherwise,
    );
  }
  return tree as unknown as Settings;
}

/** Whether the setting is read: its `readIf` holds (e.g. the DBs are ignored in cluster mode). */
function isRead(spec: SettingSpec, raw: RawValues): boolean {
  if (!spec.readIf) return true;
  const { setting, is } = spec.readIf;
  const value = parseSetting(specOf(setting as EnvName), raw[setting]);
  if (is === 'set') return Array.isArray(value) ? value.length > 0 : value !== '';
  return value === (is === 'on');
}

function putAt(tree: Record<string, unknown>, at: string, value: unknown): void {
  const parts = at.split('.');
  const last = parts.pop() as string;
  let node = tree;
  for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
  node[last] = value;
}

/** The places that depend on more than their own setting. */
function derive(s: Settings): Config {
  const { sasl: saslSettings, ...kafka } = s.kafka;
  const { sentinel: sentinelSettings, ...redis } = s.redis;
  return {
    kafka: {
      ...kafka,
      ...sasl(saslSettings),
      deadLetterTopic: kafka.deadLetterTopic || `${kafka.topicPrefix}.mis-cache-sync.dlq`,
      heartbeatTopic: heartbeatTopic(kafka.heartbeatTopic, kafka.topicPrefix),
      notificationTopic: kafka.notificationTopic || `${kafka.topicPrefix}.notifications`,
      transactionTopic: kafka.transactionTopic || `${kafka.topicPrefix}.transaction`,
    },
    redis: {
      ...redis,
      ...sentinel(redis.url, sentinelSettings),
    },
    mysql: {
      ...s.mysql,
      tls: { ...s.mysql.tls, enabled: s.mysql.tls.enabled || s.mysql.tls.caFile !== '' },
    },
    registry: s.registry,
    time: { ...s.time, databaseZone: s.time.databaseZone || s.time.zone },
    schedule: s.schedule,
    retry: s.retry,
    rules: {
      ...s.rules,
      databases: watchedDatabases(s.rules.databases, s.mysql.url, s.kafka.database),
    },
    log: s.log,
    http: s.http,
    monitor: s.monitor,
    connect: s.connect,
  };
}

/** SASL only with a mechanism, and then with a user name. */
function sasl(settings: Settings['kafka']['sasl']): {
  sasl?: NonNullable<Config['kafka']['sasl']>;
} {
  const { mechanism, username, password } = settings;
  if (!mechanism) return {};
  const label = settingLabel('MCS_KAFKA_SASL_MECHANISM');
  if (!username)
    throw configError(settingLabel('MCS_KAFKA_SASL_USERNAME'), `is required with ${label}`);
  return { sasl: { mechanism: oneOf(mechanism, SASL_MECHANISMS, label), username, password } };
}

/** Sentinel mode, from MCS_REDIS_SENTINELS or a redis+sentinel:// REDIS_URL (not both). */
function sentinel(
  url: string,
  settings: Settings['redis']['sentinel'],
): { sentinel?: NonNullable<Config['redis']['sentinel']> } {
  const { hosts, name, password } = settings;
  const label = settingLabel('MCS_REDIS_SENTINELS');
  if (isSentinelUrl(url)) {
    if (hosts.length > 0)
      throw configError(label, 'cannot be combined with a redis+sentinel:// REDIS_URL');
    const { hosts: fromUrl, name: fromUrlName } = parseSentinelUrl(url);
    return { sentinel: { hosts: fromUrl, name: fromUrlName, password } };
  }
  if (hosts.length === 0) return {};
  for (const h of hosts) {
    if (!/^[^\s:]+:\d{1,5}$/.test(h)) throw configError(label, `entry "${h}" is not host:port`);
  }
  return { sentinel: { hosts, name, password } };
}

/** MCS_DATABASES, else the database named in MYSQL_URL's path, else MYSQL_DATABASE. */
/** MCS_DATABASES, else the database of MYSQL_URL, else MYSQL_DATABASE; it must hold the topics'. */
function watchedDatabases(listed: string[], mysqlUrl: string, database: string): string[] {
  if (listed.length > 0) {
    checkWatchedDatabases(listed, database, 'MCS_DATABASES');
    return listed;
  }
  const fromUrl = /^mysql:\/\/[^/]*\/([^/?#]+)/.exec(mysqlUrl)?.[1];
  const watched = [fromUrl ? decodeURIComponent(fromUrl) : database];
  checkWatchedDatabases(watched, database, fromUrl ? 'MYSQL_URL' : 'MYSQL_DATABASE');
  return watched;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The heartbeat topic followed, or '' for none (`off`). */
function heartbeatTopic(setting: string, prefix: string): string {
  if (setting === 'off') return '';
  return setting || `__debezium-heartbeat.${prefix}`;
}
