/**
 * Module boundaries (`npm run boundaries`, part of `npm run check`):
 * a module is reached only through its index.ts; the platform knows no module.
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
