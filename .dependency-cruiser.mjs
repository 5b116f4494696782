// Import boundaries, checked by `npm run check:deps` (part of `npm run check`).
//
// Rules are written on real paths relative to the repository root: workspace packages resolve
// through their node_modules symlink and the `source` export condition to
// `packages/<name>/src/…` or `apps/<name>/src/…`, with no build needed. An `@nudge/<name>`
// that does not resolve (a package that does not exist yet) is matched by its name instead.

// dependency-cruiser cannot use the native TypeScript 7 (it has no JS compiler API), so it parses
// with swc (`parser: 'swc'` below). Without swc it falls back to a loose JavaScript parser and
// silently misses imports such as `import type`: stop instead.
try {
  await import('@swc/core');
} catch (error) {
  throw new Error(`dependency-cruiser needs @swc/core to read TypeScript (run npm ci): ${error}`);
}

/** Paths of the named workspaces: their real folder, or the bare package name if unresolved. */
const workspaces = (folder, names) =>
  `^(${folder}/(${names.join('|')})/|@nudge/(${names.join('|')})(/|$))`;

const WORKSPACE_BUILD = '^((packages|apps)/[^/]+|tests|bench)/dist/';
const APPS = ['cli', 'ingest', 'worker', 'dashboard'];
const ANY_APP = `^(apps/|@nudge/(${APPS.join('|')})(/|$))`;
const NODE_IO = ['http', 'https', 'net', 'fs', 'child_process', 'dgram', 'worker_threads'];
/** A test file, or a file under a workspace's `test/` folder (helpers for tests). */
const TEST_FILE = '(^|/)test/|\\.test\\.ts$';
/** Test-only modules published by a package for other packages' tests (and what they publish). */
const TEST_HELPERS = [
  '^packages/livechat/src/testing\\.ts$',
  '^packages/livechat/src/webhooks/fixtures\\.ts$',
  '^@nudge/livechat/testing$',
];
/** The one module of @nudge/runtime the rules may use: hashing, no I/O (see runtime-ids-pure). */
const RUNTIME_IDS = '^packages/runtime/src/ids\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'workspaces-from-source',
      severity: 'error',
      comment:
        "Workspaces import each other's TypeScript source, never a build: each package's " +
        '`exports` entries start with a `source` condition (`"source": "./src/index.ts"`), which ' +
        'vitest and this check resolve, so tests and checks need no build. A relative import ' +
        "into a workspace's dist/ is wrong the same way. Only a bin/ shim runs the build.",
      from: { pathNot: '^(packages|apps)/[^/]+/bin/' },
      to: { path: WORKSPACE_BUILD },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Modules form no import cycles, across packages or inside one (type-only imports ' +
        'included): a cycle makes load order matter and the two sides impossible to change, ' +
        'test or split apart separately. Move what both need into a module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'rules-no-io',
      severity: 'error',
      comment:
        'packages/rules holds pure decisions: data in, decision out. It does no I/O, so it ' +
        'imports no Redis, queue, HTTP server, logger or metrics library, none of node:http, ' +
        'https, net, fs, child_process, dgram or worker_threads, none of the workspaces that ' +
        'wrap them (@nudge/queues, runtime, config, telemetry, testing) and nothing from apps/. ' +
        'The worker does the I/O and passes the rules plain data. One exception: ' +
        '@nudge/runtime/ids, the hashing recipe, which does no I/O either (runtime-ids-pure). ' +
        'Tests of the rules may also use vitest, fast-check and @nudge/livechat(/testing).',
      from: { path: '^packages/rules/src/' },
      to: {
        path: [
          '^node_modules/(ioredis|bullmq|express|pino[^/]*|prom-client)/',
          `^(node:)?(${NODE_IO.join('|')})(/|$)`,
          workspaces('packages', ['queues', 'runtime', 'config', 'telemetry', 'testing']),
          ANY_APP,
        ],
        pathNot: [RUNTIME_IDS, '^@nudge/runtime/ids$'],
      },
    },
    {
      name: 'runtime-ids-pure',
      severity: 'error',
      comment:
        'packages/rules may import @nudge/runtime/ids (one recipe for hashed ids), so that ' +
        'module stays as pure as the rules: it imports node:crypto and nothing else.',
      from: { path: RUNTIME_IDS },
      to: { pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'sandbox-standalone',
      severity: 'error',
      comment:
        'packages/livechat-sandbox stands in for LiveChat, a service we do not own. It imports ' +
        'no other workspace package, so it cannot agree with our code by sharing it (schemas, ' +
        'constants, clients): it speaks the documented protocol on its own, and runs alone.',
      from: { path: '^packages/livechat-sandbox/src/' },
      to: {
        path: '^(packages/|apps/|@nudge/)',
        pathNot: '^packages/livechat-sandbox/',
      },
    },
    {
      name: 'livechat-client-no-redis',
      severity: 'error',
      comment:
        "packages/livechat is LiveChat's protocol (schemas, the API client): it stores nothing. " +
        'Its production code imports no Redis or queue library and no workspace but its own; ' +
        'whoever keeps a bot token somewhere (the worker, in Redis) hands the client a ' +
        '`BotTokenCache`. Its tests may use Redis and the sandbox.',
      from: { path: '^packages/livechat/src/', pathNot: [TEST_FILE, ...TEST_HELPERS] },
      to: {
        path: ['^node_modules/(ioredis|bullmq)/', '^(packages/|apps/|@nudge/)'],
        pathNot: '^(packages/livechat/|@nudge/livechat(/|$))',
      },
    },
    {
      name: 'packages-not-to-apps',
      severity: 'error',
      comment:
        'Apps wire, packages provide: a package never imports an app (apps/*, @nudge/cli, ' +
        'ingest, worker, dashboard). What an app and a package both need belongs in a package.',
      from: { path: '^packages/' },
      to: { path: ANY_APP },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      comment:
        'Production source (packages/*/src and apps/*/src, test files excepted) does not import ' +
        '@nudge/testing, @nudge/livechat/testing (nor the fixtures module behind it), vitest or ' +
        'fast-check: they are test tools, not installed where the apps run. Only test files, ' +
        'test helpers (a test/ folder, packages/testing, @nudge/livechat/testing) and the ' +
        'suites in tests/ and bench/ use them.',
      from: {
        path: '^(packages|apps)/[^/]+/src/',
        pathNot: ['^packages/testing/', TEST_FILE, ...TEST_HELPERS],
      },
      to: {
        path: [
          '^node_modules/(vitest|fast-check|@vitest/[^/]+)/',
          workspaces('packages', ['testing']),
          ...TEST_HELPERS,
        ],
      },
    },
  ],
  options: {
    // Workspace packages are followed through their node_modules symlink to their real folder.
    // Third-party packages and build output are recorded as dependencies but not read.
    doNotFollow: { path: ['node_modules', WORKSPACE_BUILD] },
    exclude: { path: '/\\.turbo/' },
    // swc reports `import type` and `import { type X }` as type-only dependencies; the rules
    // above apply to them too (a type-only import still couples the two modules).
    parser: 'swc',
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      // `source` first: `@nudge/*` resolves to src/*.ts, so no build is needed.
      conditionNames: ['source', 'import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
