export type {
  Dialect,
  Notices,
  Param,
  Queryable,
  Row,
  Store,
  StoreCapabilities,
  StoreErrorKind,
  StoreStats,
  Tx,
} from './types.js';
export { StoreError } from './types.js';
export type { ReadRouting } from './types.js';
export {
  formatPosition,
  parsePosition,
  readAtLeast,
  readContext,
  readerPosition,
  type ReadContext,
} from './read-context.js';
export { openStore, sqlitePathOf, type OpenStoreOptions } from './open.js';
export { createStoreHandle, type StoreHandle } from './handle.js';
export {
  appliedVersion,
  loadMigrations,
  migrate,
  schemaStatus,
  assertCompatible,
  SchemaError,
  type Migration,
  type SchemaStatus,
} from './migrations.js';
export { createWriteCombiner, type CombinedWrite } from './combine.js';
export { allIn, bySize, IN_LIST_MAX, rows } from './batch-sql.js';
export { siteSecret } from './secrets.js';
export { createFloors, HEARD_MAX_AGE_MS, heardItems, keptWhileHeard, tellEachTurn } from './notices.js';
export { allOf, broken, sql, type Fragment, type Guard } from './guards.js';
