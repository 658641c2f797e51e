/**
 * Debezium's signal table: one INSERT of a signal row (`rebuild --table` asks for an
 * incremental snapshot this way). The only write the service makes to MySQL, on its own
 * short-lived connection.
 */
import connect, { sql } from '@databases/mysql';
import { withTls, type MysqlTls } from './loader';

export interface SignalRow {
  readonly database: string;
  readonly table: string;
  readonly id: string;
  readonly type: string;
  readonly data: string;
}

export async function writeSignal(
  url: string,
  tls: MysqlTls | undefined,
  row: SignalRow,
): Promise<void> {
  const pool = connect({ connectionString: withTls(url, tls), poolSize: 1 });
  try {
    await pool.query(
      sql`INSERT INTO ${sql.ident(row.database, row.table)} (id, type, data) VALUES (${row.id}, ${row.type}, ${row.data})`,
    );
  } finally {
    await pool.dispose();
  }
}
