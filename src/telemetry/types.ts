/**
 * The shapes telemetry renders (readiness, metrics): declared here, at the bottom, so the layers
 * that produce them (Redis health and topology, the key executor) import down to telemetry and
 * telemetry never imports up.
 */
import type { Family } from '../core/families';

export interface ConnectionHealth {
  /** `db 1` for a standalone connection, `cluster` for a cluster client. */
  readonly name: string;
  readonly ok: boolean;
  /** Why not ok: the connection status or the PING error. */
  readonly detail?: string;
}

/** The INFO figures of one server that the metrics expose. */
export interface InfoFigures {
  readonly usedMemory?: number;
  readonly maxMemory?: number;
  readonly keyspaceHits?: number;
  readonly keyspaceMisses?: number;
  /** hits / (hits + misses) since the server started; absent before the first lookup. */
  readonly hitRatio?: number;
  readonly evictedKeys?: number;
  readonly expiredKeys?: number;
  /** Keys per logical DB (`db0:keys=…` lines of the keyspace section). */
  readonly dbKeys: Readonly<Record<string, number>>;
}

export interface InfoSample {
  /** host:port of the server. */
  readonly server: string;
  /** Absent when INFO failed (timeout, not connected). */
  readonly figures?: InfoFigures;
}

export interface NodeFinding {
  /** host:port */
  readonly node: string;
  readonly role: 'master' | 'replica' | 'sentinel' | 'cluster';
  readonly ok: boolean;
  /** The service cannot work as configured while this lasts (see the module comment). */
  readonly critical?: boolean;
  readonly detail: string;
}

/** What one family's operations did, for per-family metrics (see `apply`'s `tally`). */
export interface FamilyCounts {
  /** Keys removed by plain deletes and by refreshes that fell back to deleting. */
  deleted: number;
  /** Keys removed by pattern deletes. */
  patternDeleted: number;
  refreshed: number;
  refreshFallbacks: number;
}

export type FamilyTally = Map<Family, FamilyCounts>;
