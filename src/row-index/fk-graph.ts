/**
 * The watched database's structure the rules cannot see in the binlog: primary keys and foreign
 * keys, read from `information_schema` once at start (and by `check`). MySQL up to 8.4 and every
 * MariaDB run `ON DELETE/UPDATE CASCADE` and `SET NULL` inside InnoDB, below the binlog: the
 * child rows' changes never reach Debezium, so the service must know these edges itself.
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';

export type FkAction = 'CASCADE' | 'SET NULL' | 'RESTRICT' | 'NO ACTION' | 'SET DEFAULT';

export interface FkEdge {
  readonly name: string;
  /** The referencing table and its columns (in constraint order). */
  readonly child: string;
  readonly childColumns: readonly string[];
  /** The referenced table and columns. */
  readonly parent: string;
  readonly parentColumns: readonly string[];
  readonly onDelete: FkAction;
  readonly onUpdate: FkAction;
}

export interface SchemaGraph {
  readonly database: string;
  /** Primary-key columns per table (in key order). */
  readonly primaryKeys: ReadonlyMap<string, readonly string[]>;
  readonly edges: readonly FkEdge[];
}

/** Whether the engine changes child rows itself on this action (invisible to the binlog). */
export function isSilent(action: FkAction): boolean {
  return action === 'CASCADE' || action === 'SET NULL' || action === 'SET DEFAULT';
}

interface KeyRow {
  CONSTRAINT_NAME: string;
  TABLE_NAME: string;
  COLUMN_NAME: string;
  REFERENCED_TABLE_NAME: string | null;
  REFERENCED_COLUMN_NAME: string | null;
  DELETE_RULE: string | null;
  UPDATE_RULE: string | null;
}

/** Reads the graph through an open pool. */
export async function readSchemaGraph(
  pool: ConnectionPool,
  database: string,
): Promise<SchemaGraph> {
  const rows = (await pool.query(sql`
    SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
           k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
      FROM information_schema.KEY_COLUMN_USAGE k
      LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r
        ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
       AND r.TABLE_NAME = k.TABLE_NAME
     WHERE k.TABLE_SCHEMA = ${database}
       AND (k.CONSTRAINT_NAME = 'PRIMARY' OR k.REFERENCED_TABLE_NAME IS NOT NULL)
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)) as KeyRow[];
  const primaryKeys = new Map<string, string[]>();
  const edges = new Map<string, FkEdge & { childColumns: string[]; parentColumns: string[] }>();
  for (const r of rows) {
    if (r.CONSTRAINT_NAME === 'PRIMARY' && r.REFERENCED_TABLE_NAME === null) {
      const cols = primaryKeys.get(r.TABLE_NAME) ?? [];
      cols.push(r.COLUMN_NAME);
      primaryKeys.set(r.TABLE_NAME, cols);
      continue;
    }
    if (r.REFERENCED_TABLE_NAME === null || r.REFERENCED_COLUMN_NAME === null) continue;
    const id = `${r.TABLE_NAME}\u0000${r.CONSTRAINT_NAME}`;
    let edge = edges.get(id);
    if (!edge) {
      edge = {
        name: r.CONSTRAINT_NAME,
        child: r.TABLE_NAME,
        childColumns: [],
        parent: r.REFERENCED_TABLE_NAME,
        parentColumns: [],
        onDelete: (r.DELETE_RULE ?? 'RESTRICT') as FkAction,
        onUpdate: (r.UPDATE_RULE ?? 'RESTRICT') as FkAction,
      };
      edges.set(id, edge);
    }
    edge.childColumns.push(r.COLUMN_NAME);
    edge.parentColumns.push(r.REFERENCED_COLUMN_NAME);
  }
  return { database, primaryKeys, edges: [...edges.values()] };
}

/** Opens a short-lived pool on `url` (a `mysql://` URL), reads the graph and closes the pool. */
export async function loadSchemaGraph(url: string, database: string): Promise<SchemaGraph> {
  const pool = connect({ connectionString: url, poolSize: 1, bigIntMode: 'number' });
  try {
    return await readSchemaGraph(pool, database);
  } finally {
    await pool.dispose();
  }
}
