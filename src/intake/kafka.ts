/** kafkajs client construction, with kafkajs' own logs routed into pino. */
import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../telemetry/logger';

export function createKafka(config: Config['kafka'], logger: Logger): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 300, retries: 10 },
  });
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
