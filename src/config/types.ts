/**
 * The shape of the configuration every other module reads. Each place in it is filled by one
 * setting of the table (settings.ts, its `at`), some then derived in build.ts (e.g. `kafka.sasl`
 * only with a mechanism, every DB 0 in cluster mode); the compiler checks the table against it.
 */
import type { Family } from '../core/families';
import type { ValueFormats } from '../core/value-formats';
import type { SentinelTarget } from './sentinel';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
export const POISON_POLICIES = ['dead-letter', 'log'] as const;
export type PoisonPolicy = (typeof POISON_POLICIES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topicPrefix: string;
    readonly database: string;
    readonly groupId: string;
    readonly clientId: string;
    readonly fromBeginning: boolean;
    readonly ensureTopics: boolean;
    readonly sessionTimeoutMs: number;
    readonly partitionsConcurrency: number;
    /** Most bytes of one partition per fetch: the size of a batch. */
    readonly fetchBytesPerPartition: number;
    /** Kafka client library of the intake. */
    readonly client: 'kafkajs' | 'platformatic';
    readonly ssl: boolean;
    readonly sslCaFile: string;
    readonly sasl?: {
      readonly mechanism: SaslMechanism;
      readonly username: string;
      readonly password: string;
    };
    readonly deadLetterTopic: string;
    readonly poisonPolicy: PoisonPolicy;
    readonly maxMessageBytes: number;
  };
  readonly redis: {
    readonly url: string;
    readonly cluster: boolean;
    /** Logical DB per family (all 0 in cluster mode). */
    readonly db: Readonly<Record<Family, number>>;
    readonly ttl: Readonly<Record<Family | 'lock', number>>;
    readonly scanCount: number;
    readonly unlinkBatch: number;
    readonly tlsCaFile: string;
    readonly tlsRejectUnauthorized: boolean;
    readonly secondPassDelayMs: number;
    /** Sentinel mode: where to ask for the master (from MCS_REDIS_SENTINELS or the URL form). */
    readonly sentinel?: SentinelTarget & { readonly password: string };
    /** Replicas that must acknowledge a batch's writes before it is committed (0: no WAIT). */
    readonly waitReplicas: number;
    readonly waitTimeoutMs: number;
    readonly patternIndex: 'require' | 'configure' | 'off';
    readonly walkSharePercent: number;
    readonly patternFenceTimeoutMs: number;
    /** Logical DB of the row index (0 in cluster mode). */
    readonly rowIndexDb: number;
    /** Format of rebuilt values per family (MCS_VALUE_FORMATS); json when absent. */
    readonly valueFormats: ValueFormats;
  };
  readonly mysql: {
    readonly url: string;
    /** TLS to MySQL: verified against the CA file (or the system CAs). */
    readonly tls: { readonly enabled: boolean; readonly caFile: string };
  };
  /** Schema registry for Avro records (url empty: none). */
  readonly registry: {
    readonly url: string;
    readonly apicurioUrl: string;
    readonly username: string;
    readonly password: string;
    readonly caFile: string;
    readonly timeoutMs: number;
  };
  readonly time: { readonly zone: string; readonly databaseZone: string };
  readonly schedule: { readonly dailyStatsCron: string; readonly dailyStatsPattern: string };
  readonly retry: { readonly maxDelayMs: number; readonly reminderMs: number };
  readonly rules: {
    readonly snapshotInvalidates: boolean;
    readonly dir: string;
    readonly refreshFamilies: readonly Family[];
    /** Databases whose rows dirty keys (source.db); rows of others are skipped and counted. */
    readonly databases: readonly string[];
  };
  readonly log: { readonly level: LogLevel; readonly statsIntervalMs: number };
  readonly http: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly monitor: {
    readonly groupId: string;
    readonly sample: number;
    /** Check delays after an event, ascending (ms). */
    readonly windowsMs: readonly number[];
    readonly inService: boolean;
    readonly httpPort: number;
  };
  readonly connect: {
    readonly url: string;
    readonly connector: string;
    /** For an https:// CONNECT_URL: its CA, and the client certificate a mutual-TLS listener asks for. */
    readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  };
}
