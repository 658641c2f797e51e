/**
 * Structured logs. The root logger is created once; scopes (`child`) add the fields that say
 * where a line comes from: component, then topic/partition/offset/table per message.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config';

export type { Logger };

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: 'mis-cache-sync',
    level,
    base: { pid: process.pid },
    // Secrets never leave the process through logs, whatever a caller passes in.
    redact: {
      paths: ['password', '*.password', 'sasl', '*.sasl', 'url', '*.url'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything (tests, the offline CLI commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
