import type { Store } from '../store/index.js';
import { plainTable, type MigratedTable, type TableShape } from './copy.js';

export type { TableShape } from './copy.js';

/**
 * Tables the migration leaves alone: the schema's own record (each store is
 * migrated by Agora's migrations), the migration's bookkeeping, and SQLite's
 * full-text tables (search is rebuilt on the target from `search_documents`,
 * whose layout differs by dialect).
 */
export function isMigrated(table: string): boolean {
  return table !== 'schema_migrations' && !table.startsWith('migration_') && !table.startsWith('search_fts_');
}

const NAME = /^[a-z_][a-z0-9_]*$/;

/** The live schema's tables (those the migration moves), read from the store's catalogue. */
export async function liveTables(store: Store): Promise<TableShape[]> {
  const names =
    store.dialect === 'sqlite'
      ? await store.q.all<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
        )
      : await store.q.all<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        );
  const shapes: TableShape[] = [];
  for (const { name } of names) {
    if (!isMigrated(name)) continue;
    if (!NAME.test(name)) throw new Error(`table name ${JSON.stringify(name)} is not one Agora makes`);
    shapes.push(await shapeOf(store, name));
  }
  return shapes;
}

async function shapeOf(store: Store, table: string): Promise<TableShape> {
  if (store.dialect === 'sqlite') {
    const columns = await store.q.all<{ name: string; pk: number }>(`SELECT name, pk FROM pragma_table_info(?)`, [
      table,
    ]);
    return {
      name: table,
      columns: columns.map((c) => c.name),
      primaryKey: columns
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
    };
  }
  const columns = await store.q.all<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
  const key = await store.q.all<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = (current_schema() || '.' || ?)::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey, a.attnum)`,
    [table],
  );
  return { name: table, columns: columns.map((c) => c.name), primaryKey: key.map((c) => c.name) };
}

/** The two stores' schemas do not match: the target is not at the source's schema version, or not Agora's. */
export class SchemaMismatch extends Error {
  override name = 'SchemaMismatch';
}

/**
 * The tables the migration moves from `source` to `target`: every live table
 * of the source, plain unless a module gives its own (`special`, by name),
 * checked against the target's catalogue — same tables, same columns.
 */
export async function migratedTables(
  source: Store,
  target: Store,
  special: readonly MigratedTable[],
): Promise<MigratedTable[]> {
  const [mine, theirs] = await Promise.all([liveTables(source), liveTables(target)]);
  const byName = new Map(special.map((t) => [t.name, t]));
  const targetColumns = new Map(theirs.map((t) => [t.name, [...t.columns].sort().join(', ')]));
  const missing = theirs.filter((t) => !mine.some((m) => m.name === t.name)).map((t) => t.name);
  if (missing.length > 0) throw new SchemaMismatch(`the target has tables the source lacks: ${missing.join(', ')}`);
  return mine.map((shape) => {
    if (!targetColumns.has(shape.name)) throw new SchemaMismatch(`the target has no table ${shape.name}`);
    const own = byName.get(shape.name);
    if (own) return own;
    const columns = [...shape.columns].sort().join(', ');
    if (targetColumns.get(shape.name) !== columns)
      throw new SchemaMismatch(
        `${shape.name} has columns (${columns}) on the source and (${targetColumns.get(shape.name)}) on the target`,
      );
    return plainTable(shape);
  });
}
