/**
 * Related rows straight from MySQL, for `via` targets while the row index of the related table
 * is not complete (e.g. the user_auth rows of a menu). One query per table and column per batch.
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import type { Row } from '../envelope/types';
import type { RelatedRowsPort } from './ports';

export interface RelatedRows extends RelatedRowsPort {
  close(): Promise<void>;
}

export function createRelatedRows(url: string): RelatedRows {
  const pool: ConnectionPool = connect({
    connectionString: url,
    bigIntMode: 'number',
    dateMode: 'string',
    dateTimeMode: 'string',
    timeStampMode: 'string',
    poolSize: 1,
  });
  return {
    async rowsWhere(table, column, values, columns) {
      const cols = sql.join(
        [...new Set(columns)].map((c) => sql.ident(c)),
        sql`, `,
      );
      const list = sql.join(
        values.map((v) => sql`${v}`),
        sql`, `,
      );
      const rows = (await pool.query(
        sql`SELECT ${cols} FROM ${sql.ident(table)} WHERE ${sql.ident(column)} IN (${list})`,
      )) as Row[];
      return rows;
    },
    close: () => pool.dispose(),
  };
}
