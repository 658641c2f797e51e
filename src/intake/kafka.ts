/** kafkajs client construction, with kafkajs' own logs routed into pino. */
import { readFileSync } from 'node:fs';
import {
  Kafka,
  logLevel,
  type KafkaConfig,
  type LogEntry,
  type logCreator,
  type SASLOptions,
} from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../telemetry/logger';

export function createKafka(config: Config['kafka'], logger: Logger): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 300, retries: 10 },
    ...security(config),
  });
}

/** TLS and SASL settings passed through to kafkajs. */
function security(config: Config['kafka']): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (config.ssl)
    out.ssl = config.sslCaFile ? { ca: [readFileSync(config.sslCaFile, 'utf8')] } : true;
  if (config.sasl) {
    const { mechanism, username, password } = config.sasl;
    out.sasl = { mechanism, username, password } as SASLOptions;
  }
  return out;
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { ...extra, namespace: undefined };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}
