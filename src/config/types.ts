/**
 * The configuration every other module reads: derived from the settings table, not declared
 * beside it. Each place holds what its setting (settings.ts, `at`) parses to; build.ts then
 * derives the few places that depend on more than one setting, and those are the only ones
 * spelled out here (`kafka.sasl` exists only with a mechanism, `redis.sentinel` only in
 * Sentinel mode). What a place means is its setting's `doc`.
 */
import type { SaslMechanism } from './choices';
import type { SentinelTarget } from './sentinel';
import type { Settings } from './settings';

export type { LogLevel, PoisonPolicy, SaslMechanism } from './choices';
export { LOG_LEVELS, POISON_POLICIES, SASL_MECHANISMS } from './choices';

export type Config = DeepReadonly<
  Omit<Settings, 'kafka' | 'redis'> & {
    kafka: Omit<Settings['kafka'], 'sasl'> & {
      sasl?: { mechanism: SaslMechanism; username: string; password: string };
    };
    redis: Omit<Settings['redis'], 'sentinel'> & {
      /** Where to ask for the master (from MCS_REDIS_SENTINELS or the URL form). */
      sentinel?: SentinelTarget & { password: string };
    };
  }
>;

/** Config is frozen (build.ts): read-only at every depth, arrays included. */
type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;
