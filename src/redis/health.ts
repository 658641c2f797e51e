/**
 * What the HTTP endpoint asks Redis: whether every connection answers PING (readiness) and the
 * INFO figures of every server behind them (metrics, read at scrape time). Both are bounded by a
 * timeout, so a Redis that hangs never hangs a probe or a scrape.
 */
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { errorMessage } from '../core/errors';
import type { ConnectionHealth, InfoFigures, InfoSample } from '../telemetry/types';

/** PINGs every connection that is connected; one that is not is reported without a command. */
export async function pingAll(
  raw: readonly (Redis | Cluster)[],
  timeoutMs: number,
): Promise<ConnectionHealth[]> {
  return Promise.all(
    raw.map(async (c): Promise<ConnectionHealth> => {
      const name = connectionName(c);
      // Not connected: a PING would only wait in the offline queue.
      if (c.status !== 'ready') return { name, ok: false, detail: `connection ${c.status}` };
      try {
        await withTimeout(c.ping(), timeoutMs, 'PING');
        return { name, ok: true };
      } catch (err) {
        return { name, ok: false, detail: errorMessage(err) };
      }
    }),
  );
}

export function connectionName(c: Redis | Cluster): string {
  return isCluster(c) ? 'cluster' : `db ${c.options.db ?? 0}`;
}

function isCluster(c: Redis | Cluster): c is Cluster {
  return (c as Cluster).isCluster === true;
}

/** `INFO` text → field map (`# Section` headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

export function infoFigures(fields: ReadonlyMap<string, string>): InfoFigures {
  const num = (name: string): number | undefined => {
    const v = fields.get(name);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const hits = num('keyspace_hits');
  const misses = num('keyspace_misses');
  const lookups = (hits ?? 0) + (misses ?? 0);
  const dbKeys: Record<string, number> = {};
  for (const [name, value] of fields) {
    if (!/^db\d+$/.test(name)) continue;
    const m = /(?:^|,)keys=(\d+)/.exec(value);
    if (m?.[1]) dbKeys[name.slice(2)] = Number(m[1]);
  }
  const figures: Record<string, unknown> = {
    usedMemory: num('used_memory'),
    maxMemory: num('maxmemory'),
    keyspaceHits: hits,
    keyspaceMisses: misses,
    hitRatio: hits !== undefined && lookups > 0 ? hits / lookups : undefined,
    evictedKeys: num('evicted_keys'),
    expiredKeys: num('expired_keys'),
  };
  for (const k of Object.keys(figures)) if (figures[k] === undefined) delete figures[k];
  return { ...(figures as Omit<InfoFigures, 'dbKeys'>), dbKeys };
}

/**
 * One INFO per server behind the connections: standalone connections to several DBs of one
 * server are asked once; a cluster client is asked through each of its masters.
 */
export async function sampleInfo(
  raw: readonly (Redis | Cluster)[],
  timeoutMs: number,
): Promise<InfoSample[]> {
  const nodes = new Map<string, Redis | undefined>();
  for (const c of raw) {
    if (isCluster(c)) {
      for (const n of c.nodes('master')) nodes.set(serverOf(n), n);
      if (c.nodes('master').length === 0) nodes.set('cluster', undefined); // not connected
    } else {
      const server = serverOf(c);
      const known = nodes.get(server);
      if (!known || (known.status !== 'ready' && c.status === 'ready')) nodes.set(server, c);
    }
  }
  return Promise.all(
    [...nodes].map(async ([server, node]): Promise<InfoSample> => {
      if (!node || node.status !== 'ready') return { server };
      try {
        const text = await withTimeout(node.info(), timeoutMs, 'INFO');
        return { server, figures: infoFigures(parseInfo(text)) };
      } catch {
        return { server };
      }
    }),
  );
}

function serverOf(c: Redis): string {
  return `${c.options.host ?? 'localhost'}:${c.options.port ?? 6379}`;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
