/**
 * Module boundaries (`npm run boundaries`, part of `npm run check`):
 * a module is reached only through its index.ts; the platform knows no module;
 * within a module only its routes files know HTTP; modules reach storage
 * through the store port (platform/store/index.ts), never an adapter; the web
 * pages (src/web) reach modules through their doors too, and nothing below knows them.
 * (Tables: each module's SQL names only its own tables — `test/boundaries.test.ts`.)
 */
module.exports = {
  forbidden: [
    {
      name: 'no-deep-import-across-modules',
      comment: "Use the other module's public door (src/modules/<m>/index.ts), never its files.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'platform-knows-no-module',
      comment: 'src/platform is what every module uses; it must not depend on any module.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'modules-do-not-import-the-composition-root',
      comment: 'Dependencies are passed in; only main.ts and cli/ wire things.',
      severity: 'error',
      from: { path: '^src/(modules|platform)/' },
      to: { path: '^src/(main\\.ts|cli/)' },
    },
    {
      name: 'only-routes-know-http',
      comment:
        "Business rules do not depend on the HTTP layer: only a module's routes files (routes.ts, *-routes.ts) import platform/http, Fastify or TypeBox.",
      severity: 'error',
      from: { path: '^src/modules/', pathNot: 'routes\\.ts$' },
      to: { path: ['^src/platform/http/', 'node_modules/(fastify|@fastify|@sinclair/typebox)/'] },
    },
    {
      name: 'modules-use-the-store-port',
      comment:
        "A module uses the store port (platform/store/index.ts); the SQLite and PostgreSQL adapters are the composition root's.",
      severity: 'error',
      from: { path: '^src/modules/' },
      to: { path: '^src/platform/store/', pathNot: '^src/platform/store/index\\.ts$' },
    },
    {
      name: 'web-uses-module-doors',
      comment: "The pages call the modules' services through each module's index.ts, like any other module would.",
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'nothing-below-imports-the-web',
      comment: 'Modules and the platform do not know the pages; only main.ts wires them in.',
      severity: 'error',
      from: { path: '^src/(modules|platform)/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
  },
};
