/**
 * Turns the raw errors of a misconfigured secure deployment into one clear startup error that
 * names the part, what was refused and which setting fixes it, and never carries a secret.
 * Pure: each function returns a SyncError for a permanent failure (wrong password, untrusted
 * certificate, missing permission) and undefined for anything else (the caller goes on as
 * before: a server that is down is waited for or retried).
 */
import type { Config } from '../config/config';
import { SyncError, errorMessage } from '../core/errors';

/** Node's TLS verification failures (the server's certificate chain or host name). */
const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const CERT_TEXT =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|Hostname\/IP does not match certificate/i;

/** The TLS verification code of an error or of one of its causes, if it is one. */
export function certificateProblem(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERT_CODES.has(code)) return code;
    const message = e instanceof Error ? e.message : '';
    if (CERT_TEXT.test(message)) return message;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** What `untrustedCertificate` names: the part, where it connected, and its CA setting. */
export interface UntrustedCertificateArgs {
  /** kafka, redis or mysql. */
  readonly part: string;
  /** The server(s) connected to, as shown. */
  readonly where: string;
  /** The setting that names the CA file, e.g. MCS_KAFKA_SSL_CA_FILE. */
  readonly caSetting: string;
  /** Its value; empty: the system CAs. */
  readonly caFile: string;
  /** The verification failure (`certificateProblem`). */
  readonly problem: string;
}

export function untrustedCertificate({
  part,
  where,
  caSetting,
  caFile,
  problem,
}: UntrustedCertificateArgs): SyncError {
  const trusted = caFile ? `the CA in ${caFile}` : 'the system CAs';
  return new SyncError(
    'AUTH_FAILED',
    `${part} (${where}): the server's TLS certificate is not trusted (${problem}): it does not ` +
      `verify against ${trusted}. Fix: set ${caSetting} to the PEM file of the CA that signed the ` +
      `server's certificate, and connect with the host name the certificate is issued for`,
    { details: { part } },
  );
}

/**
 * Kafka: SASL refused, certificate untrusted, or an ACL missing. Either client: kafkajs reports
 * these itself, the @platformatic/kafka adapter in the same shape (`kafkaError`).
 */
export function diagnoseKafka(err: unknown, config: Config['kafka']): SyncError | undefined {
  const where = config.brokers.join(',');
  const name = (err as { name?: unknown }).name;
  const type = (err as { type?: unknown }).type;
  const message = errorMessage(err);
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(message)) {
    const user = config.sasl?.username ?? '';
    return new SyncError(
      'AUTH_FAILED',
      `kafka (${where}): SASL authentication as "${user}" (${config.sasl?.mechanism ?? 'none'}) ` +
        'was refused. Fix: check MCS_KAFKA_SASL_USERNAME and MCS_KAFKA_SASL_PASSWORD ' +
        '(or MCS_KAFKA_SASL_PASSWORD_FILE), and that MCS_KAFKA_SASL_MECHANISM is one the ' +
        'brokers enable',
      { details: { part: 'kafka' }, cause: err },
    );
  }
  const problem = certificateProblem(err);
  if (problem) {
    return untrustedCertificate({
      part: 'kafka',
      where,
      caSetting: 'MCS_KAFKA_SSL_CA_FILE',
      caFile: config.sslCaFile,
      problem,
    });
  }
  if (
    typeof type === 'string' &&
    /^(TOPIC|GROUP|CLUSTER|TRANSACTIONAL_ID)_AUTHORIZATION_FAILED$/.test(type)
  ) {
    const principal = config.sasl ? `User:${config.sasl.username}` : 'the client';
    return new SyncError(
      'ACCESS_DENIED',
      `kafka (${where}): ${type} for ${principal}: ${message}. Fix: grant it Read on the ` +
        `change topics (${config.topicPrefix}.${config.database}.*) and on the consumer group ` +
        `${config.groupId}, and Write on ${config.deadLetterTopic} (docs/security.md "Production security")`,
      { details: { part: 'kafka' }, cause: err },
    );
  }
  return undefined;
}

/** Redis (ioredis): credentials refused, a command refused by the ACL, or an untrusted certificate. */
export function diagnoseRedis(
  err: unknown,
  config: Config['redis'],
  where: string,
): SyncError | undefined {
  const message = errorMessage(err);
  if (/^(WRONGPASS|NOAUTH)\b/.test(message) || /invalid username-password pair/i.test(message)) {
    return new SyncError(
      'AUTH_FAILED',
      `redis (${where}): the server refused the credentials (${message.split(' ')[0]}). Fix: ` +
        'put the ACL user and its password in REDIS_URL (rediss://user:password@host:port) or ' +
        'in the file named by REDIS_URL_FILE',
      { details: { part: 'redis' } },
    );
  }
  if (/^NOPERM\b/.test(message)) {
    return new SyncError(
      'ACCESS_DENIED',
      `redis (${where}): the ACL user may not do what the service needs: ${message}. Fix: ` +
        'give the user the ACL of docs/security.md "Production security"',
      { details: { part: 'redis' } },
    );
  }
  const problem = certificateProblem(err);
  if (problem) {
    return untrustedCertificate({
      part: 'redis',
      where,
      caSetting: 'MCS_REDIS_TLS_CA_FILE',
      caFile: config.tlsCaFile,
      problem,
    });
  }
  return undefined;
}

/** MySQL (mysql2): password refused, TLS required or untrusted, a table it may not read. */
export function diagnoseMysql(
  err: unknown,
  config: Config['mysql'],
  where: string,
): SyncError | undefined {
  const code = (err as { code?: unknown }).code;
  const message = errorMessage(err);
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return new SyncError(
      'AUTH_FAILED',
      `mysql (${where}): ${message}. Fix: check the user and password in MYSQL_URL ` +
        '(or the file named by MYSQL_URL_FILE)',
      { details: { part: 'mysql' } },
    );
  }
  if (/insecure transport are prohibited|require_secure_transport|requires SSL/i.test(message)) {
    return new SyncError(
      'AUTH_FAILED',
      `mysql (${where}): the server requires TLS: ${message}. Fix: set MCS_MYSQL_TLS=true and ` +
        'MCS_MYSQL_TLS_CA_FILE to the CA of the server certificate',
      { details: { part: 'mysql' } },
    );
  }
  const problem = certificateProblem(err);
  if (problem) {
    return untrustedCertificate({
      part: 'mysql',
      where,
      caSetting: 'MCS_MYSQL_TLS_CA_FILE',
      caFile: config.tls.caFile,
      problem,
    });
  }
  return undefined;
}
