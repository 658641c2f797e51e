/** The intake's brokers, TLS and SASL as @platformatic/kafka's connection options. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Config } from '../../config/config';

export interface BaseOptions {
  readonly clientId: string;
  readonly bootstrapBrokers: string[];
  readonly tls?: TlsOptions;
  readonly sasl?: {
    mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
    username: string;
    password: string;
  };
  readonly retries: number;
  readonly retryDelay: number;
}

/** Brokers, TLS and SASL settings mapped to the library's connection options. */
export function connectionOptions(config: Config['kafka']): BaseOptions {
  const out: {
    -readonly [K in keyof BaseOptions]: BaseOptions[K];
  } = {
    clientId: config.clientId,
    bootstrapBrokers: [...config.brokers],
    retries: 10,
    retryDelay: 300,
  };
  if (config.ssl)
    out.tls = config.sslCaFile ? { ca: [readFileSync(config.sslCaFile, 'utf8')] } : {};
  if (config.sasl) {
    const { mechanism, username, password } = config.sasl;
    const name =
      mechanism === 'plain'
        ? 'PLAIN'
        : mechanism === 'scram-sha-256'
          ? 'SCRAM-SHA-256'
          : 'SCRAM-SHA-512';
    out.sasl = { mechanism: name, username, password };
  }
  return out;
}
