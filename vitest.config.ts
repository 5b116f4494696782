import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const ROOT = import.meta.dirname;

/**
 * Workspace imports (`@nudge/*`) resolve through the `source` export condition to TypeScript
 * source, so in-process tests run without a build. It has to be an SSR condition: vitest runs
 * node tests in Vite's `ssr` environment, where top-level `resolve.conditions` does not apply.
 * Set per project, never at the top level of this file: inline projects inherit that.
 *
 * Vitest also hands these conditions to its workers as `node --conditions`, so
 * `import.meta.resolve` in a test sees them too. That is why process entry points (the apps'
 * `./main` exports, which tests spawn with node) have no `source` condition: they resolve to
 * dist, built by `npm test`.
 */
const SOURCE_CONDITIONS = ['source', 'node', 'development|production'];

/**
 * What `test:fast` (`--mode fast`) leaves out: tests that start a built `dist/main.js` as a
 * child process. `npm test` builds first and runs them all.
 */
const NEEDS_BUILD = {
  files: ['apps/ingest/test/**', 'tests/src/**', 'tests/chaos/test/**'],
  // Tests elsewhere that start a dist entry point say so in their name.
  names: /^(?!.*dist\/main\.js)/,
};

/**
 * The chaos suite kills, pauses and restarts processes on timings of a few seconds: it runs
 * after every other project (a group of its own), one file at a time, so its rows don't fight
 * the rest of the run for the CPU (README: "Chaos suite").
 */
const CHAOS = 'tests/chaos';

/** One project per workspace, named after its package: `vitest run --project @nudge/rules`. */
function workspaceProjects(fast: boolean): TestProjectInlineConfiguration[] {
  const dirs = ['packages', 'apps'].flatMap((parent) =>
    readdirSync(join(ROOT, parent)).map((name) => `${parent}/${name}`),
  );
  dirs.push('tests', CHAOS, 'bench');
  return dirs
    .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    .map((dir) => {
      const { name } = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
        name: string;
      };
      return {
        ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
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
          ...(dir === CHAOS
            ? { sequence: { groupOrder: 1 }, fileParallelism: false, hookTimeout: 120_000 }
            : {}),
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
