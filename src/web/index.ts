/**
 * The web app: server-rendered pages over the module services, called
 * in-process; cookie sessions and CSRF-checked forms; one small script that
 * enhances what already works without it.
 */
export { webRoutes, type WebDeps, type WebLimits } from './routes.js';
export { createWebSessions, type WebSessions } from './session.js';
