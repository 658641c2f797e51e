/**
 * A TLS handshake before the clients start, so an untrusted certificate stops the service at once
 * with an error naming the part and the CA setting, instead of being retried as if the server were
 * down (kafkajs retries connection errors; ioredis reconnects forever). Only a verification
 * failure is an error here: a server that is down or slow is left to the clients' own handling.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config/config';
import { certificateProblem, untrustedCertificate } from './diagnose';

/** Resolves undefined when the handshake verified or could not be tried, else the problem. */
export function handshakeProblem(
  host: string,
  port: number,
  caFile: string,
  timeoutMs = 5000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
      rejectUnauthorized: true,
    });
    const done = (problem: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => done(undefined));
    socket.once('error', (err) => done(certificateProblem(err)));
  });
}

function hostPort(entry: string, defaultPort: number): [string, number] {
  const i = entry.lastIndexOf(':');
  return i < 0 ? [entry, defaultPort] : [entry.slice(0, i), Number(entry.slice(i + 1))];
}

/** Checks the first Kafka broker (MCS_KAFKA_SSL) and the Redis server (rediss://). */
export async function checkTlsTrust(config: Config): Promise<void> {
  if (config.kafka.ssl && config.kafka.brokers[0]) {
    const [host, port] = hostPort(config.kafka.brokers[0], 9093);
    const problem = await handshakeProblem(host, port, config.kafka.sslCaFile);
    if (problem)
      throw untrustedCertificate({
        part: 'kafka',
        where: `${host}:${port}`,
        caSetting: 'MCS_KAFKA_SSL_CA_FILE',
        caFile: config.kafka.sslCaFile,
        problem,
      });
  }
  if (config.redis.url.startsWith('rediss:') && config.redis.tlsRejectUnauthorized) {
    const url = new URL(config.redis.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 6379);
    const problem = await handshakeProblem(host, port, config.redis.tlsCaFile);
    if (problem)
      throw untrustedCertificate({
        part: 'redis',
        where: `${host}:${port}`,
        caSetting: 'MCS_REDIS_TLS_CA_FILE',
        caFile: config.redis.tlsCaFile,
        problem,
      });
  }
}
