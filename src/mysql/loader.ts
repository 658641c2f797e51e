/**
 * Reads rows for refresh loaders. Values come back JSON-ready: dates and times as text,
 * BIGINT as a number when exact and as text beyond 2^53, so the rebuilt value is what a JSON
 * reader expects.
 */
import { readFileSync } from 'node:fs';
import connect, { sql, type ConnectionPool } from '@databases/mysql';

/** TLS to MySQL (config.mysql.tls): certificate and host name verified. */
export interface MysqlTls {
  readonly enabled: boolean;
  readonly caFile: string;
}

export interface RowLoader {
  query(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export function createRowLoader(url: string, tls?: MysqlTls): RowLoader {
  const pool: ConnectionPool = connect({
    connectionString: withTls(url, tls),
    bigIntMode: 'bigint',
    dateMode: 'string',
    dateTimeMode: 'string',
    timeStampMode: 'string',
    poolSize: 2,
  });
  return {
    async query(text, params) {
      const parts = text.split('?');
      let query = sql.__dangerous__rawValue(parts[0] ?? '');
      parts.slice(1).forEach((part, i) => {
        query = sql`${query}${params[i]}${sql.__dangerous__rawValue(part)}`;
      });
      const rows = (await pool.query(query)) as Record<string, unknown>[];
      return rows.map(jsonReady);
    },
    close: () => pool.dispose(),
  };
}

function jsonReady(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
  }
  return out;
}

/**
 * @databases/mysql takes only a connection string; mysql2 reads JSON from its query parameters,
 * so TLS options travel as `ssl={...}` (the CA's PEM text included). Verification is always on.
 */
export function withTls(url: string, tls: MysqlTls | undefined): string {
  if (!tls?.enabled) return url;
  const u = new URL(url);
  const ssl = {
    rejectUnauthorized: true,
    verifyIdentity: true,
    ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
  };
  u.searchParams.set('ssl', JSON.stringify(ssl));
  return u.toString();
}
