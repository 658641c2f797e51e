/**
 * Which tables the row index keeps, and which columns, derived from the rules and the database's
 * foreign-key graph (pure; read once at start):
 * - tables whose key columns can change (a template or loader column outside the primary key):
 *   a flattened update has no before image, the index gives the old key columns;
 * - children of a CASCADE / SET NULL edge whose child table is ruled: the engine changes them
 *   below the binlog, the index finds them by parent key (a reverse set per FK column);
 * - the related table of a `via` target (user_auth for menus): rows found by the `via` column.
 * Without the graph (no MYSQL_URL) primary keys are unknown: every table with a key column is
 * indexed, and no cascade edge is known.
 */
import type { FkEdge, SchemaGraph } from './fk-graph';
import { isSilent } from './fk-graph';
import type { RuleSet } from '../rules/registry';
import type { Via } from '../rules/types';

export interface IndexedTable {
  readonly table: string;
  /** Columns kept per row (key-template, loader, FK and via columns). */
  readonly columns: readonly string[];
  /** Columns with a reverse set (value → primary keys): FK columns of cascades, via columns. */
  readonly refColumns: readonly string[];
  /** Why the table is indexed (logs, check). */
  readonly reasons: readonly string[];
  /**
   * Whether a write of the row's own change may leave an entry that already holds its content
   * as it is (storage.ts): only where no cascade writes entries, since a cascade's write is
   * versioned just after the entry it read, and an entry kept at an older version would let a
   * redelivered own change overwrite what the cascade derived from it.
   */
  readonly keepsSame: boolean;
}

export type CascadeHandling = 'row-index' | 'patterns' | 'ignored';

export interface Cascade {
  readonly edge: FkEdge;
  /** row-index: children by parent key (patterns while the index is incomplete); patterns:
   * every key family of the child as a pattern (multi-column key); ignored: child not ruled. */
  readonly handling: CascadeHandling;
  readonly note: string;
}

export interface ViaTarget {
  readonly table: string;
  readonly target: number;
  readonly via: Via;
}

export interface RowModel {
  readonly indexed: ReadonlyMap<string, IndexedTable>;
  /** Silent edges (CASCADE / SET NULL / SET DEFAULT on delete or update). */
  readonly cascades: readonly Cascade[];
  /** Silent edges by parent table, for the resolve step (handled ones only). */
  readonly cascadesByParent: ReadonlyMap<string, readonly Cascade[]>;
  readonly vias: ReadonlyMap<string, readonly ViaTarget[]>;
  readonly primaryKeys: ReadonlyMap<string, readonly string[]>;
  /** Whether the FK graph was read (false: primary keys and cascades unknown). */
  readonly graphKnown: boolean;
}

export function buildRowModel(rules: RuleSet, graph: SchemaGraph | undefined): RowModel {
  const acc = new Map<string, { columns: Set<string>; refs: Set<string>; reasons: Set<string> }>();
  const need = (table: string, reason: string, columns: Iterable<string>, refs: string[] = []) => {
    let a = acc.get(table);
    if (!a) acc.set(table, (a = { columns: new Set(), refs: new Set(), reasons: new Set() }));
    for (const c of columns) a.columns.add(c);
    for (const r of refs) {
      a.refs.add(r);
      a.columns.add(r);
    }
    a.reasons.add(reason);
  };
  const pkOf = (t: string) => graph?.primaryKeys.get(t);

  const vias = new Map<string, ViaTarget[]>();
  for (const table of rules.tables) {
    const rule = rules.get(table);
    if (!rule) continue;
    const fields = keyColumns(rules, table);
    const pk = pkOf(table);
    const movable = [...fields].filter((f) => !pk?.includes(f));
    if (movable.length > 0) need(table, `key columns can change (${movable.join(', ')})`, fields);
    rule.targets.forEach((t, i) => {
      if (!t.via) return;
      const list = vias.get(table) ?? [];
      list.push({ table, target: i, via: t.via });
      vias.set(table, list);
      need(t.via.table, `${table} keys via ${t.via.table}.${t.via.column}`, t.template.fields, [
        t.via.column,
      ]);
    });
  }

  const cascades: Cascade[] = [];
  for (const edge of graph?.edges ?? []) {
    if (!isSilent(edge.onDelete) && !isSilent(edge.onUpdate)) continue;
    const ruled = rules.get(edge.child) !== undefined;
    const what = `${edge.child}(${edge.childColumns.join(',')}) → ${edge.parent}(${edge.parentColumns.join(',')}) ON DELETE ${edge.onDelete} ON UPDATE ${edge.onUpdate}`;
    if (!ruled) {
      cascades.push({ edge, handling: 'ignored', note: `${what}: child table has no rule` });
      continue;
    }
    if (edge.childColumns.length !== 1) {
      cascades.push({
        edge,
        handling: 'patterns',
        note: `${what}: multi-column key, every key family of ${edge.child} as a pattern`,
      });
      continue;
    }
    need(edge.child, `child of ${edge.name}`, keyColumns(rules, edge.child), [
      edge.childColumns[0] as string,
    ]);
    cascades.push({
      edge,
      handling: 'row-index',
      note: `${what}: children by parent key from the row index (their families' patterns until the index is complete)`,
    });
  }
  const cascadesByParent = new Map<string, Cascade[]>();
  for (const c of cascades) {
    if (c.handling === 'ignored') continue;
    const list = cascadesByParent.get(c.edge.parent) ?? [];
    list.push(c);
    cascadesByParent.set(c.edge.parent, list);
  }

  const cascadeChildren = new Set(
    cascades.filter((c) => c.handling === 'row-index').map((c) => c.edge.child),
  );
  const indexed = new Map<string, IndexedTable>();
  for (const [table, a] of acc) {
    indexed.set(table, {
      table,
      columns: [...a.columns].sort(),
      refColumns: [...a.refs].sort(),
      reasons: [...a.reasons],
      keepsSame: !cascadeChildren.has(table),
    });
  }
  return {
    indexed,
    cascades,
    cascadesByParent,
    vias,
    primaryKeys: graph?.primaryKeys ?? new Map(),
    graphKnown: graph !== undefined,
  };
}

/** Template (and so loader) columns of a table's own targets (not `via` targets). */
export function keyColumns(rules: RuleSet, table: string): Set<string> {
  const out = new Set<string>();
  for (const t of rules.get(table)?.targets ?? []) {
    if (t.via) continue;
    for (const f of t.template.fields) out.add(f);
  }
  return out;
}

/** One line per indexed table and per silent FK edge: what the service does about it. */
export function describeRowModel(model: RowModel): string[] {
  const lines: string[] = [];
  if (!model.graphKnown) {
    lines.push('foreign keys unknown (no MYSQL_URL or information_schema unreadable)');
  }
  for (const c of model.cascades) lines.push(`cascade ${c.edge.name}: ${c.note}`);
  for (const t of model.indexed.values()) {
    lines.push(
      `row index ${t.table}: columns ${t.columns.join(', ')}; by ${t.refColumns.join(', ') || '-'}; ${t.reasons.join('; ')}`,
    );
  }
  return lines;
}

/** Tables whose changes the resolve step looks at (indexed, FK parents, via sources). */
export function rowTablesOf(model: RowModel): Set<string> {
  return new Set([...model.indexed.keys(), ...model.cascadesByParent.keys(), ...model.vias.keys()]);
}
