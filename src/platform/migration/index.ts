export { keyRange, type Key, type MigratedTable, type Row } from './copy.js';
export { createMigrator, type MigrationStatus, type Migrator, type MigratorDeps } from './migrator.js';
export { followPrimary, redactUrl } from './record.js';
export { migrationRoutes } from './routes.js';
