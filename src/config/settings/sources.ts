/**
 * Where rebuilt values and schemas come from: MySQL and the schema registry (DATA_SOURCES); the
 * business time zone and the daily job (TIME_AND_SCHEDULE).
 */
import { families } from '../parse';
import type { SettingDecl } from '../spec';

export const DATA_SOURCES = [
  {
    env: 'MCS_REFRESH_FAMILIES',
    at: 'rules.refreshFamilies',
    type: 'list',
    default: '',
    parse: families,
    doc: 'Families whose `refresh` targets are rebuilt from MySQL as JSON (e.g. `master`); elsewhere such targets are deleted. Empty: delete everywhere, the safe default while readers may expect another serialization.',
  },
  {
    env: 'MYSQL_URL',
    at: 'mysql.url',
    type: 'string',
    default: '',
    redact: 'url',
    secret: true,
    doc: 'MySQL/MariaDB for refresh loaders, `mysql://user:password@host:port/db`. Required when MCS_REFRESH_FAMILIES is set.',
  },
  {
    env: 'SCHEMA_REGISTRY_URL',
    at: 'registry.url',
    type: 'string',
    default: '',
    redact: 'url',
    doc: 'Schema registry for Avro change events, its Confluent-compatible API (e.g. `http://host:8080/apis/ccompat/v7` for Apicurio). Empty: Avro records are rejected as malformed. The format is detected per record; JSON needs nothing here.',
  },
  {
    env: 'MCS_REGISTRY_APICURIO_URL',
    at: 'registry.apicurioUrl',
    type: 'string',
    default: '',
    doc: "Apicurio's own API (`…/apis/registry/v2`), for records in Apicurio's framing (8-byte global id, or ids in headers). Empty: derived from SCHEMA_REGISTRY_URL when it ends in `/apis/ccompat/vN`.",
  },
  {
    env: 'MCS_REGISTRY_USERNAME',
    at: 'registry.username',
    type: 'string',
    default: '',
    doc: 'User for HTTP basic authentication to the schema registry; empty: none.',
  },
  {
    env: 'MCS_REGISTRY_PASSWORD',
    at: 'registry.password',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Password for the schema registry (never logged).',
  },
  {
    env: 'MCS_REGISTRY_CA_FILE',
    at: 'registry.caFile',
    type: 'string',
    default: '',
    doc: "PEM file of the CA that signed an `https://` registry's certificate (empty: the system CAs).",
  },
  {
    env: 'MCS_REGISTRY_TIMEOUT_MS',
    at: 'registry.timeoutMs',
    type: 'int',
    default: '5000',
    min: 100,
    doc: 'How long one schema fetch may take before it counts as a registry outage (retried with backoff).',
  },
  {
    env: 'MCS_MYSQL_TLS',
    at: 'mysql.tls.enabled',
    yaml: 'mysql.tls',
    type: 'bool',
    default: 'false',
    doc: "Connect to MySQL over TLS, verifying the server's certificate and host name (on with MCS_MYSQL_TLS_CA_FILE).",
  },
  {
    env: 'MCS_MYSQL_TLS_CA_FILE',
    at: 'mysql.tls.caFile',
    yaml: 'mysql.tlsCaFile',
    type: 'string',
    default: '',
    doc: 'PEM file of the CA of the MySQL server certificate (e.g. the RDS CA bundle); setting it turns TLS on. Empty: the system CAs.',
  },
] as const satisfies readonly SettingDecl[];

export const TIME_AND_SCHEDULE = [
  {
    env: 'MCS_TIME_ZONE',
    at: 'time.zone',
    type: 'string',
    default: 'Asia/Seoul',
    doc: 'Business time zone: dates in keys (`YYYYMMDD`, `YYYYMM`) and the daily schedule.',
  },
  {
    env: 'MCS_DB_TIME_ZONE',
    at: 'time.databaseZone',
    type: 'string',
    default: '',
    doc: 'Zone of DATETIME wall-clock values in the database; empty means the business zone.',
  },
  {
    env: 'MCS_DAILY_STATS_CRON',
    at: 'schedule.dailyStatsCron',
    type: 'string',
    default: '0 0 * * *',
    doc: "Cron (5 fields, business time zone) of the daily drop of yesterday's daily statistics; empty turns it off. Runs once per slot across instances; a missed slot is caught up at start.",
  },
  {
    env: 'MCS_DAILY_STATS_PATTERN',
    at: 'schedule.dailyStatsPattern',
    type: 'string',
    default: 'stats:daily_*:{date}',
    doc: 'Keys the daily job deletes (SCAN glob, stats family); `{date}` is yesterday as YYYYMMDD.',
  },
] as const satisfies readonly SettingDecl[];
