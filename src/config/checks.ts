/** Checks that involve more than one setting or a lookup beyond the text, after the mapping. */
import { existsSync } from 'node:fs';
import { Cron } from 'croner';
import { isValidTimeZone } from '../core/dates';
import { configError } from '../core/errors';
import { settingLabel, type EnvName } from './settings';
import type { Config } from './types';

export function checkCrossSettings(config: Config): void {
  checkZones(config);
  checkFiles(config);
  if (config.rules.refreshFamilies.length > 0 && !config.mysql.url) {
    throw configError(settingLabel('MYSQL_URL'), 'is required when MCS_REFRESH_FAMILIES is set');
  }
  if (config.registry.url && !/^https?:\/\//.test(config.registry.url)) {
    throw configError(settingLabel('SCHEMA_REGISTRY_URL'), 'must start with http:// or https://');
  }
  if (config.monitor.inService && !config.mysql.url) {
    throw configError(settingLabel('MYSQL_URL'), 'is required when MCS_MONITOR_IN_SERVICE is on');
  }
  if (config.mysql.url && !/^mysql:\/\//.test(config.mysql.url)) {
    throw configError(settingLabel('MYSQL_URL'), 'must start with mysql://');
  }
  if (config.schedule.dailyStatsCron) {
    try {
      new Cron(config.schedule.dailyStatsCron, { paused: true, timezone: config.time.zone }).stop();
    } catch (err) {
      throw configError(
        settingLabel('MCS_DAILY_STATS_CRON'),
        `is not a valid cron expression: ${(err as Error).message}`,
      );
    }
  }
  if (config.monitor.groupId === config.kafka.groupId) {
    throw configError(
      settingLabel('MCS_MONITOR_GROUP_ID'),
      `must differ from MCS_GROUP_ID (${config.kafka.groupId}): the monitor never joins the service's group`,
    );
  }
  if (!config.schedule.dailyStatsPattern.includes('{date}')) {
    throw configError(settingLabel('MCS_DAILY_STATS_PATTERN'), 'must contain {date}');
  }
}

function checkZones(config: Config): void {
  for (const [name, zone] of [
    ['MCS_TIME_ZONE', config.time.zone],
    ['MCS_DB_TIME_ZONE', config.time.databaseZone],
  ] as const) {
    if (!isValidTimeZone(zone))
      throw configError(settingLabel(name), `"${zone}" is not a known IANA time zone`);
  }
}

/** Files named by settings must exist; a client certificate goes with its key. */
function checkFiles(config: Config): void {
  const files: [EnvName, string][] = [
    ['MCS_KAFKA_SSL_CA_FILE', config.kafka.sslCaFile],
    ['MCS_REDIS_TLS_CA_FILE', config.redis.tlsCaFile],
    ['MCS_REGISTRY_CA_FILE', config.registry.caFile],
    ['MCS_MYSQL_TLS_CA_FILE', config.mysql.tls.caFile],
    ['MCS_CONNECT_TLS_CA_FILE', config.connect.tls.caFile],
    ['MCS_CONNECT_TLS_CERT_FILE', config.connect.tls.certFile],
    ['MCS_CONNECT_TLS_KEY_FILE', config.connect.tls.keyFile],
  ];
  for (const [name, file] of files) {
    if (file && !existsSync(file))
      throw configError(settingLabel(name), `file ${file} does not exist`);
  }
  if (Boolean(config.connect.tls.certFile) !== Boolean(config.connect.tls.keyFile)) {
    throw configError(
      settingLabel('MCS_CONNECT_TLS_CERT_FILE'),
      `goes with ${settingLabel('MCS_CONNECT_TLS_KEY_FILE')}: set both or neither`,
    );
  }
}

/**
 * Every event of the change topics (`<prefix>.<MYSQL_DATABASE>.<table>`) carries
 * `source.db` = MYSQL_DATABASE: a watched list without it skips every event as foreign.
 */
export function checkWatchedDatabases(
  watched: readonly string[],
  database: string,
  from: 'MCS_DATABASES' | 'MYSQL_URL' | 'MYSQL_DATABASE',
): void {
  if (watched.includes(database)) return;
  throw configError(
    settingLabel('MYSQL_DATABASE'),
    `"${database}" (the topics' database) is not among the watched databases (${watched.join(', ')}, from ${from}): every change event would be skipped as of a database not watched; make them agree, or list both in MCS_DATABASES if the topics are routed`,
  );
}
