/**
 * Typed errors. Every failure the service can meet has a code and says whether retrying the
 * same work can succeed: retryable errors stall the partition and retry with backoff
 * (nothing is committed meanwhile); non-retryable errors on one message make it a poison
 * message, which is logged with its place, counted and skipped so the partition moves on.
 */
export type ErrorCode =
  /** A setting is missing or invalid (startup). */
  | 'CONFIG_INVALID'
  /** A table rule in consumers/ is invalid (startup). */
  | 'RULE_INVALID'
  /** The Kafka record is not a Debezium change event we can read. */
  | 'ENVELOPE_MALFORMED'
  /** The Kafka record is larger than MCS_MAX_MESSAGE_BYTES. */
  | 'MESSAGE_TOO_LARGE'
  /** The change event names a table that has no rule. */
  | 'UNKNOWN_TABLE'
  /** A rule needs a column the row image does not have, or has with the wrong type. */
  | 'FIELD_INVALID'
  /** Redis did not acknowledge a command. */
  | 'REDIS_UNAVAILABLE'
  /** Kafka could not be reached or refused a request. */
  | 'KAFKA_UNAVAILABLE'
  /** The schema registry could not be reached, or does not (yet) have a schema id (retryable). */
  | 'REGISTRY_UNAVAILABLE'
  /** MySQL did not answer a lookup the planning needs (related rows): retried. */
  | 'MYSQL_UNAVAILABLE'
  /** A part refused the credentials, or its certificate did not verify (startup; not retried). */
  | 'AUTH_FAILED'
  /** Authenticated, but the user lacks a permission the service needs (startup; not retried). */
  | 'ACCESS_DENIED';

export interface SyncErrorOptions {
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function configError(setting: string, message: string): SyncError {
  return new SyncError('CONFIG_INVALID', `${setting}: ${message}`, { details: { setting } });
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/** The message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Failures an operator fixes in the setup, not by waiting (exit code 2): settings, rules,
 * credentials, certificates, grants.
 */
export function isSetupError(err: unknown): boolean {
  return (
    isSyncError(err) &&
    ['RULE_INVALID', 'CONFIG_INVALID', 'AUTH_FAILED', 'ACCESS_DENIED'].includes(err.code)
  );
}
