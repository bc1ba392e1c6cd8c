/**
 * Search: full-text documents for posts, communities (and comments later),
 * written by the owning modules in their own transactions; the GET /search
 * route ranks ids and asks each kind's hydrator (wired at the composition
 * root) for the public items.
 */
export { createSearchModule, type SearchModule } from './module.js';
export { searchTerms, SEARCH_PAGE, type SearchKind, type Hydrator } from './service.js';
