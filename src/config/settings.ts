/**
 * Every setting the service reads, in one table: its environment variable, its key in the
 * optional YAML file, its default and what it means. `config.ts` parses from this table and
 * `mis-cache-sync config --doc` prints it, so the documentation cannot drift from the code.
 */
export type SettingType = 'string' | 'url' | 'int' | 'bool' | 'hosts' | 'list' | 'level';

export interface SettingSpec {
  /** Environment variable. */
  readonly env: string;
  /** Dotted key in the YAML file (MCS_CONFIG_FILE). */
  readonly yaml: string;
  readonly type: SettingType;
  /** Default as text; undefined means required. */
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
  readonly secret?: boolean;
  readonly doc: string;
}

export const SETTINGS = [
  {
    env: 'KAFKA_BROKERS',
    yaml: 'kafka.brokers',
    type: 'hosts',
    doc: 'Comma-separated Kafka bootstrap servers (host:port).',
  },
  {
    env: 'TOPIC_PREFIX',
    yaml: 'kafka.topicPrefix',
    type: 'string',
    default: 'mis',
    doc: 'Debezium `topic.prefix`; change topics are `<prefix>.<database>.<table>`.',
  },
  {
    env: 'MYSQL_DATABASE',
    yaml: 'kafka.database',
    type: 'string',
    default: 'mis',
    doc: 'Database whose tables are followed (the middle part of the topic names).',
  },
  {
    env: 'MCS_GROUP_ID',
    yaml: 'kafka.groupId',
    type: 'string',
    default: 'mis-cache-sync',
    doc: 'Kafka consumer group; instances sharing it split the partitions.',
  },
  {
    env: 'MCS_CLIENT_ID',
    yaml: 'kafka.clientId',
    type: 'string',
    default: 'mis-cache-sync',
    doc: 'Kafka client id (shows in broker logs and quotas).',
  },
  {
    env: 'MCS_FROM_BEGINNING',
    yaml: 'kafka.fromBeginning',
    type: 'bool',
    default: 'true',
    doc: 'Where a new consumer group starts: earliest retained event (true) or only new events (false).',
  },
  {
    env: 'MCS_ENSURE_TOPICS',
    yaml: 'kafka.ensureTopics',
    type: 'bool',
    default: 'true',
    doc: 'Create missing change topics of ruled tables at start (Debezium creates a topic only on its first event).',
  },
  {
    env: 'MCS_SESSION_TIMEOUT_MS',
    yaml: 'kafka.sessionTimeoutMs',
    type: 'int',
    default: '30000',
    min: 6000,
    doc: 'Consumer group session timeout.',
  },
  {
    env: 'REDIS_URL',
    yaml: 'redis.url',
    type: 'url',
    secret: true,
    doc: 'Redis server, `redis://[user:password@]host:port` (`rediss://` for TLS). The DB in the URL is ignored: DBs come from MCS_REDIS_DB_*.',
  },
  {
    env: 'MCS_REDIS_DB_SESSION',
    yaml: 'redis.db.session',
    type: 'int',
    default: '0',
    min: 0,
    max: 15,
    doc: 'Logical DB of the session family (`session:*`).',
  },
  {
    env: 'MCS_REDIS_DB_PERMISSIONS',
    yaml: 'redis.db.permissions',
    type: 'int',
    default: '1',
    min: 0,
    max: 15,
    doc: 'Logical DB of the permissions family (`permissions:*`).',
  },
  {
    env: 'MCS_REDIS_DB_MASTER',
    yaml: 'redis.db.master',
    type: 'int',
    default: '1',
    min: 0,
    max: 15,
    doc: 'Logical DB of master data (`master:*`).',
  },
  {
    env: 'MCS_REDIS_DB_STATS',
    yaml: 'redis.db.stats',
    type: 'int',
    default: '1',
    min: 0,
    max: 15,
    doc: 'Logical DB of statistics (`stats:*`).',
  },
  {
    env: 'MCS_REDIS_DB_TEMP',
    yaml: 'redis.db.temp',
    type: 'int',
    default: '2',
    min: 0,
    max: 15,
    doc: 'Logical DB of temporary work data (`temp:*`).',
  },
  {
    env: 'MCS_REDIS_CLUSTER',
    yaml: 'redis.cluster',
    type: 'bool',
    default: 'false',
    doc: 'REDIS_URL names a Redis Cluster node: every family lives in DB 0 (the DB settings are ignored) and pattern deletes scan every master.',
  },
  {
    env: 'MCS_TTL_SESSION',
    yaml: 'ttl.session',
    type: 'int',
    default: '86400',
    min: 1,
    doc: 'TTL (s) of a session value the service writes.',
  },
  {
    env: 'MCS_TTL_PERMISSIONS',
    yaml: 'ttl.permissions',
    type: 'int',
    default: '3600',
    min: 1,
    doc: 'TTL (s) of a permissions value the service writes.',
  },
  {
    env: 'MCS_TTL_MASTER',
    yaml: 'ttl.master',
    type: 'int',
    default: '21600',
    min: 1,
    doc: 'TTL (s) of a rebuilt master-data value.',
  },
  {
    env: 'MCS_TTL_STATS',
    yaml: 'ttl.stats',
    type: 'int',
    default: '43200',
    min: 1,
    doc: 'TTL (s) of a statistics value the service writes.',
  },
  {
    env: 'MCS_TTL_TEMP',
    yaml: 'ttl.temp',
    type: 'int',
    default: '1800',
    min: 1,
    doc: 'TTL (s) of a temp value the service writes.',
  },
  {
    env: 'MCS_TTL_LOCK',
    yaml: 'ttl.lock',
    type: 'int',
    default: '300',
    min: 1,
    doc: 'TTL (s) of the locks the service takes (`lock:refresh:*`, schedule locks): a crashed holder blocks no longer.',
  },
  {
    env: 'MCS_REFRESH_FAMILIES',
    yaml: 'rules.refreshFamilies',
    type: 'list',
    default: '',
    doc: 'Families whose `refresh` targets are rebuilt from MySQL as JSON (e.g. `master`); elsewhere such targets are deleted. Empty: delete everywhere, the safe default while readers may expect another serialization.',
  },
  {
    env: 'MYSQL_URL',
    yaml: 'mysql.url',
    type: 'string',
    default: '',
    secret: true,
    doc: 'MySQL/MariaDB for refresh loaders, `mysql://user:password@host:port/db`. Required when MCS_REFRESH_FAMILIES is set.',
  },
  {
    env: 'MCS_TIME_ZONE',
    yaml: 'time.zone',
    type: 'string',
    default: 'Asia/Seoul',
    doc: 'Business time zone: dates in keys (`YYYYMMDD`, `YYYYMM`) and the daily schedule.',
  },
  {
    env: 'MCS_DB_TIME_ZONE',
    yaml: 'time.databaseZone',
    type: 'string',
    default: '',
    doc: 'Zone of DATETIME wall-clock values in the database; empty means the business zone.',
  },
  {
    env: 'MCS_DAILY_STATS_CRON',
    yaml: 'schedule.dailyStatsCron',
    type: 'string',
    default: '0 0 * * *',
    doc: "Cron (5 fields, business time zone) of the daily drop of yesterday's daily statistics; empty turns it off. Runs once per slot across instances; a missed slot is caught up at start.",
  },
  {
    env: 'MCS_DAILY_STATS_PATTERN',
    yaml: 'schedule.dailyStatsPattern',
    type: 'string',
    default: 'stats:daily_*:{date}',
    doc: 'Keys the daily job deletes (SCAN glob, stats family); `{date}` is yesterday as YYYYMMDD.',
  },
  {
    env: 'MCS_SCAN_COUNT',
    yaml: 'redis.scanCount',
    type: 'int',
    default: '500',
    min: 1,
    max: 100000,
    doc: 'COUNT hint of each SCAN step of a pattern delete.',
  },
  {
    env: 'MCS_UNLINK_BATCH',
    yaml: 'redis.unlinkBatch',
    type: 'int',
    default: '500',
    min: 1,
    max: 100000,
    doc: 'Most keys passed to one UNLINK.',
  },
  {
    env: 'MCS_RETRY_MAX_DELAY_MS',
    yaml: 'retry.maxDelayMs',
    type: 'int',
    default: '5000',
    min: 10,
    doc: 'Longest pause between retries of a batch Redis did not acknowledge (backoff doubles from 100 ms).',
  },
  {
    env: 'MCS_OUTAGE_REMINDER_MS',
    yaml: 'retry.reminderMs',
    type: 'int',
    default: '30000',
    min: 100,
    doc: 'While Redis stays down, how often the outage is logged again.',
  },
  {
    env: 'MCS_SNAPSHOT_INVALIDATES',
    yaml: 'rules.snapshotInvalidates',
    type: 'bool',
    default: 'false',
    doc: 'Whether snapshot reads (`op: r`) invalidate keys. Off: a snapshot describes rows that did not change.',
  },
  {
    env: 'MCS_CONSUMERS_DIR',
    yaml: 'rules.dir',
    type: 'string',
    default: '',
    doc: 'Folder of table rule modules; empty means the `consumers/` folder shipped with the service.',
  },
  {
    env: 'LOG_LEVEL',
    yaml: 'log.level',
    type: 'level',
    default: 'info',
    doc: 'pino level: fatal, error, warn, info, debug, trace or silent.',
  },
  {
    env: 'MCS_STATS_INTERVAL_MS',
    yaml: 'log.statsIntervalMs',
    type: 'int',
    default: '60000',
    min: 0,
    doc: 'How often counters (events, keys deleted, rejected messages) are logged; 0 turns it off.',
  },
] as const satisfies readonly SettingSpec[];

/** Where the service looks for the local stack's environment (lowest precedence). */
export const STACK_ENV_FILE = '.stack/env';
/** Points at an optional YAML file with the settings above (dotted keys as nesting). */
export const CONFIG_FILE_ENV = 'MCS_CONFIG_FILE';
