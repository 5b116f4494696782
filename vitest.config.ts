import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const ROOT = import.meta.dirname;

/**
 * Workspace imports (`@nudge/*`) resolve through the `source` export condition to TypeScript
 * source, so in-process tests run without a build. It has to be an SSR condition: vitest runs
 * node tests in Vite's `ssr` environment, where top-level `resolve.conditions` does not apply.
 * Set per project, never at the top level of this file: inline projects inherit that.
 */
const SOURCE_CONDITIONS = ['source', 'node', 'development|production'];

/**
 * Vitest also hands the SSR conditions to its workers as `node --conditions`, so there
 * `import.meta.resolve('@nudge/ingest')` would answer `src/index.ts`. The end-to-end suites
 * find the built `dist/main.js` that way (they need the build anyway), so they resolve
 * workspaces to dist.
 */
const RESOLVES_DIST = new Set(['@nudge/tests']);

/**
 * What `test:fast` (`--mode fast`) leaves out: tests that start a built `dist/main.js` as a
 * child process. `npm test` builds first and runs them all.
 */
const NEEDS_BUILD = {
  files: ['apps/ingest/test/**', 'tests/src/**'],
  // Tests elsewhere that start a dist entry point say so in their name.
  names: /^(?!.*dist\/main\.js)/,
};

/** One project per workspace, named after its package: `vitest run --project @nudge/rules`. */
function workspaceProjects(fast: boolean): TestProjectInlineConfiguration[] {
  const dirs = ['packages', 'apps'].flatMap((parent) =>
    readdirSync(join(ROOT, parent)).map((name) => `${parent}/${name}`),
  );
  dirs.push('tests', 'bench');
  return dirs
    .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    .map((dir) => {
      const { name } = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
        name: string;
      };
      return {
        ...(RESOLVES_DIST.has(name) ? {} : { ssr: { resolve: { conditions: SOURCE_CONDITIONS } } }),
        test: {
          name,
          root: join(ROOT, dir),
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...(fast
              ? NEEDS_BUILD.files
                  .filter((glob) => glob.startsWith(`${dir}/`))
                  .map((glob) => glob.slice(dir.length + 1))
              : []),
          ],
          testNamePattern: fast ? NEEDS_BUILD.names : undefined,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      };
    });
}

export default defineConfig(({ mode }) => ({
  test: {
    projects: workspaceProjects(mode === 'fast'),
    // One shared Redis for the whole run (REDIS_URL, else spawned); see packages/testing.
    // Declared here, once, and not per project: each project would start its own. Loaded from
    // source like the rest, so no build is needed.
    globalSetup: ['packages/testing/src/global-setup.ts'],
  },
}));
