import type { MigratedTable } from '../../platform/migration/index.js';
import { pick } from '../../platform/pick.js';
import { searchDocumentsTable } from './queries.js';
import { searchRoutes, type SearchRoutes } from './routes.js';
import { createSearchService, type SearchDeps, type SearchService } from './service.js';

/** What other modules may ask of search: their documents, written in their transactions, and how to show a hit. */
export interface SearchModule {
  index: SearchService['index'];
  remove: SearchService['remove'];
  /** How a kind's hits become public items (wired at the composition root). */
  registerHydrator: SearchService['registerHydrator'];
  /** Its tables as a live migration moves them (the documents differ in layout by dialect). */
  migratedTables: readonly MigratedTable[];
  /** For the web pages' search (the same answer as `GET /search`). */
  search: SearchService['search'];
  routes: SearchRoutes;
}

export function createSearchModule(deps: SearchDeps): SearchModule {
  const service = createSearchService(deps);
  return {
    ...pick(service, ['index', 'remove', 'registerHydrator', 'search']),
    migratedTables: [searchDocumentsTable],
    routes: (auth) => searchRoutes(service, auth),
  };
}
