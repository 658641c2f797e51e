/**
 * Read-only questions to MySQL/MariaDB for `mis-cache-sync check`: server variables, and whether
 * a statement prepares (server-side PREPARE, never executed).
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';

export interface MysqlInspector {
  /** `SHOW GLOBAL VARIABLES LIKE name` → value (undefined when the server has no such variable). */
  variable(name: string): Promise<string | undefined>;
  /** Resolves when the server accepts `PREPARE` of the text (`?` placeholders); rejects with its error. */
  prepares(text: string): Promise<void>;
  close(): Promise<void>;
}

export function createMysqlInspector(url: string): MysqlInspector {
  const pool: ConnectionPool = connect({ connectionString: url, poolSize: 1 });
  return {
    async variable(name) {
      const rows = (await pool.query(sql`SHOW GLOBAL VARIABLES LIKE ${name}`)) as {
        Value?: unknown;
      }[];
      const v = rows[0]?.Value;
      return v === undefined || v === null ? undefined : String(v);
    },
    async prepares(text) {
      await pool.task(async (db) => {
        await db.query(sql`PREPARE mcs_check FROM ${text}`);
        await db.query(sql`DEALLOCATE PREPARE mcs_check`);
      });
    },
    close: () => pool.dispose(),
  };
}
