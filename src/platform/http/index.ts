export { accountLimit, clientKey, createHttpApp, ipLimit, type App, type HttpOptions } from './server.js';
export { createAuthHooks, principalOf, type AuthHooks } from './auth.js';
export type { Authenticate, Principal } from '../principal.js';
import './request.js';
export { createSerializeOnce, ErrorBody, Id, IdParams, List, Nullable, responses, sendJsonText } from './schemas.js';
export { toErrorAnswer } from './errors.js';
export { opsRoutes, type Readiness } from './ops.js';
