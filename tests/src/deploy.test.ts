import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

// deploy/: the Prometheus config and alerts pass promtool (and their unit tests), and the
// Grafana dashboard and the alerts query only metrics that Nudge serves.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

/** The metrics each app serves (histograms are queried by their _bucket, _sum, _count). */
const METRICS = {
  ingest: { plain: ['nudge_webhooks_total'], histograms: ['nudge_webhook_ack_seconds'] },
  worker: {
    plain: [
      'nudge_jobs_total',
      'nudge_livechat_call_errors_total',
      'nudge_livechat_events_skipped_total',
    ],
    histograms: [
      'nudge_job_duration_seconds',
      'nudge_timer_lateness_seconds',
      'nudge_livechat_call_duration_seconds',
    ],
  },
  dashboard: {
    plain: ['nudge_queue_jobs', 'nudge_queue_oldest_waiting_seconds', 'nudge_queue_workers'],
    histograms: [],
  },
} satisfies Record<string, { plain: string[]; histograms: string[] }>;

const ALL_METRICS = Object.values(METRICS).flatMap(({ plain, histograms }) => [
  ...plain,
  ...histograms,
]);
const QUERYABLE = new Set([
  ...Object.values(METRICS).flatMap(({ plain, histograms }) => [
    ...plain,
    ...histograms.flatMap((name) => [`${name}_bucket`, `${name}_sum`, `${name}_count`]),
  ]),
  'up',
]);

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers,
 * ranges, label lists and Grafana variables are taken out, less function calls (a name before
 * `(`), keywords and numbers.
 */
const metricNamesIn = (expr: string): string[] => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{\w+\}|\$\w+/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)].map(
    ([name]) => name,
  );
  return [...new Set(names.filter((name) => !PROMQL_KEYWORDS.has(name.toLowerCase())))];
};

const unknownMetricsIn = (expr: string): string[] =>
  metricNamesIn(expr).filter((name) => !QUERYABLE.has(name));

const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');

// A Debian binary (package prometheus), not an npm one.
const PROMTOOL = 'promtool';
const PROMTOOL_FOUND = !spawnSync(PROMTOOL, ['--version']).error;
/** CI (.ci/run) installs the tools the tests need and says so; there a missing one fails. */
const TOOLS_REQUIRED = Boolean(process.env.NUDGE_CI_TOOLS);
const NO_PROMTOOL =
  "promtool is not on PATH: it comes with Debian's prometheus package (apt-get install prometheus)";

/**
 * Runs promtool in the repository's root and expects it to succeed, printing its output when it
 * doesn't. Without promtool the test is skipped, or fails where CI said the tools are there.
 */
const expectPromtoolPasses = (skip: (note: string) => never, args: string[]) => {
  if (!PROMTOOL_FOUND) {
    if (TOOLS_REQUIRED) {
      expect.fail(`${NO_PROMTOOL}; NUDGE_CI_TOOLS is set, so it is required`);
    }
    skip(NO_PROMTOOL);
  }
  const result = spawnSync(PROMTOOL, args, { cwd: ROOT, encoding: 'utf8' });
  const output = [
    `$ promtool ${args.join(' ')}`,
    result.error?.message,
    result.stdout,
    result.stderr,
  ]
    .filter(Boolean)
    .join('\n');
  expect(result.status, output).toBe(0);
};

const ScrapeConfig = z.object({
  rule_files: z.array(z.string()),
  scrape_configs: z.array(z.object({ job_name: z.string() })),
});

const AlertRule = z.object({
  alert: z.string(),
  expr: z.string(),
  for: z.string(),
  labels: z.object({ severity: z.enum(['critical', 'warning']) }),
  annotations: z.object({ summary: z.string().min(1), description: z.string().min(1) }),
});
const AlertRules = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(AlertRule) })),
});
const AlertTests = z.object({
  tests: z.array(
    z.object({
      alert_rule_test: z.array(
        z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()) }),
      ),
    }),
  ),
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template.
const DS_REF = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const DatasourceRef = z.object({ type: z.string(), uid: z.string() });
const Target = z.object({ refId: z.string(), expr: z.string(), datasource: DatasourceRef });
const Panel = z.object({
  type: z.string(),
  title: z.string(),
  datasource: DatasourceRef.optional(),
  targets: z.array(Target).optional(),
});
const Dashboard = z.object({
  schemaVersion: z.number(),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), query: z.string().optional() })),
  }),
  // A row holds its panels only while collapsed; rows don't nest.
  panels: z.array(Panel.extend({ panels: z.array(Panel).optional() })),
});

const scrapeConfig = ScrapeConfig.parse(parse(read('prometheus/prometheus.yml')));
const alerts = AlertRules.parse(parse(read('prometheus/alerts.yml'))).groups.flatMap(
  ({ rules }) => rules,
);
const alertTests = AlertTests.parse(parse(read('prometheus/alerts.test.yml'))).tests.flatMap(
  (group) => group.alert_rule_test,
);
const dashboardJson: unknown = JSON.parse(read('grafana/nudge.json'));
const dashboard = Dashboard.parse(dashboardJson);
const panels = dashboard.panels.flatMap(({ panels: inRow = [], ...panel }) => [panel, ...inRow]);
const queryPanels = panels.filter((panel) => panel.type !== 'row');
const panelExprs = queryPanels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

/** Every value of a `datasource` key anywhere in the JSON, with where it is. */
const datasourcesIn = (value: unknown, path = '$'): { path: string; ref: unknown }[] => {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => datasourcesIn(item, `${path}[${String(index)}]`));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      key === 'datasource'
        ? [{ path: `${path}.${key}`, ref: item }]
        : datasourcesIn(item, `${path}.${key}`),
    );
  }
  return [];
};

describe('metricNamesIn', () => {
  it('finds the selected metrics, not functions, keywords, labels, ranges or variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, queue) (rate(nudge_timer_lateness_seconds_bucket{queue=~"$queue"}[$__rate_interval]))) > 1e3',
      ),
    ).toEqual(['nudge_timer_lateness_seconds_bucket']);
    expect(
      metricNamesIn(
        'max by (queue) (nudge_queue_jobs{state="failed"}) - max by (queue) (nudge_queue_jobs offset 15m) > bool 0',
      ),
    ).toEqual(['nudge_queue_jobs']);
    expect(metricNamesIn('absent(up{job="nudge-worker"} == 1) or sum(foo) without (a)')).toEqual([
      'up',
      'foo',
    ]);
    expect(unknownMetricsIn('rate(nudge_job_duration_seconds[5m]) + nudge_jobs')).toEqual([
      'nudge_job_duration_seconds',
      'nudge_jobs',
    ]);
  });
});

describe('deploy/prometheus', () => {
  it('prometheus.yml passes promtool check config', ({ skip }) => {
    expectPromtoolPasses(skip, ['check', 'config', 'deploy/prometheus/prometheus.yml']);
  });

  it('alerts.yml passes promtool check rules', ({ skip }) => {
    expectPromtoolPasses(skip, ['check', 'rules', 'deploy/prometheus/alerts.yml']);
  });

  it('alerts.yml passes its unit tests (promtool test rules)', ({ skip }) => {
    expectPromtoolPasses(skip, ['test', 'rules', 'deploy/prometheus/alerts.test.yml']);
  });

  it('scrapes ingest, the workers and the dashboard, and loads alerts.yml', () => {
    expect(scrapeConfig.scrape_configs.map(({ job_name }) => job_name).sort()).toEqual([
      'nudge-dashboard',
      'nudge-ingest',
      'nudge-worker',
    ]);
    expect(scrapeConfig.rule_files).toEqual(['alerts.yml']);
  });

  it('alerts query known metrics and scrape jobs, with for, severity, summary and description', () => {
    // The schema (AlertRule) already required for, severity, summary and description.
    const jobs = new Set(scrapeConfig.scrape_configs.map(({ job_name }) => job_name));
    for (const { alert, expr } of alerts) {
      expect(metricNamesIn(expr), alert).not.toEqual([]);
      expect(unknownMetricsIn(expr), alert).toEqual([]);
      for (const [, job] of expr.matchAll(/\bjob="([^"]*)"/g)) {
        expect(jobs, `${alert} names job ${String(job)}`).toContain(job);
      }
    }
    expect(new Set(alerts.map(({ alert }) => alert)).size).toBe(alerts.length);
  });

  it('alerts.test.yml makes each alert fire, and has a case where it does not', () => {
    for (const { alert } of alerts) {
      const cases = alertTests.filter(({ alertname }) => alertname === alert);
      expect(
        cases.some(({ exp_alerts }) => exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some(({ exp_alerts }) => exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });
});

describe('deploy/grafana', () => {
  it('picks its data source with the DS_PROMETHEUS variable, on every panel and query', () => {
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }),
    );
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual(DS_REF);
      expect(panel.targets ?? [], panel.title).not.toEqual([]);
    }
    // Rows only group panels: no queries of their own.
    for (const row of panels.filter((panel) => panel.type === 'row')) {
      expect(row.targets ?? [], row.title).toEqual([]);
    }
    // Targets and variables included: no data source named by uid anywhere.
    const refs = datasourcesIn(dashboardJson);
    expect(refs.length).toBeGreaterThan(queryPanels.length);
    for (const { path, ref } of refs) {
      expect(ref, path).toEqual(DS_REF);
    }
  });

  it('queries only known metrics, and every one of them', () => {
    const variableQueries = dashboard.templating.list.flatMap(({ type, query }) =>
      type === 'query' && query !== undefined ? [{ panel: 'variables', expr: query }] : [],
    );
    const queried = new Set<string>();
    for (const { panel, expr } of [...panelExprs, ...variableQueries]) {
      // label_values(metric, label): its metric.
      const query = expr.replace(/^label_values\((\w+),.*\)$/, '$1');
      const names = metricNamesIn(query);
      expect(names, `${panel}: ${expr}`).not.toEqual([]);
      expect(unknownMetricsIn(query), `${panel}: ${expr}`).toEqual([]);
      for (const name of names) {
        queried.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    expect(ALL_METRICS.filter((name) => !queried.has(name))).toEqual([]);
  });

  it("the panels' queries parse (promtool check rules on them as recording rules)", ({ skip }) => {
    // Grafana's variables, as Grafana would fill them in.
    const rules = panelExprs.map(({ expr }, index) => ({
      record: `deploy_test:panel_query:${String(index)}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$queue', '.*'),
    }));
    for (const { expr } of rules) {
      expect(expr).not.toContain('$');
    }
    const dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
    try {
      const file = join(dir, 'panels.rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'panels', rules }] }));
      expectPromtoolPasses(skip, ['check', 'rules', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the known metrics', () => {
  /** The text of an app's TypeScript sources (tests included). */
  const sourcesOf = (app: string): string => {
    const dir = join(ROOT, 'apps', app, 'src');
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(dir, file), 'utf8'))
      .join('\n');
  };

  it.for(Object.entries(METRICS).map(([app, names]) => ({ app, ...names })))(
    'are named in apps/$app',
    ({ app, plain, histograms }) => {
      const sources = sourcesOf(app);
      for (const name of [...plain, ...histograms]) {
        expect(sources, `apps/${app} names ${name}`).toContain(`'${name}'`);
      }
    },
  );
});

const DOCKER_COMPOSE = 'docker-compose';
const COMPOSE_FOUND = !spawnSync(DOCKER_COMPOSE, ['version']).error;
const NO_COMPOSE =
  "docker-compose is not on PATH: it comes with Debian's docker-compose package (apt-get install docker-compose)";

const ComposeFile = z.object({
  services: z.record(
    z.string(),
    z.object({ command: z.array(z.string()).optional(), healthcheck: z.unknown().optional() }),
  ),
});

describe('compose files', () => {
  // There is no Docker engine to run them here: they are checked as far as that allows.
  it('compose.yaml and deploy/compose.monitoring.yaml pass docker-compose config', ({ skip }) => {
    if (!COMPOSE_FOUND) {
      if (TOOLS_REQUIRED) {
        expect.fail(`${NO_COMPOSE}; NUDGE_CI_TOOLS is set, so it is required`);
      }
      skip(NO_COMPOSE);
    }
    // A copy with an empty .env (the worker's env_file), so a developer's own .env is neither
    // needed nor read.
    const dir = mkdtempSync(join(tmpdir(), 'nudge-compose-'));
    try {
      writeFileSync(join(dir, 'compose.yaml'), readFileSync(join(ROOT, 'compose.yaml')));
      writeFileSync(
        join(dir, 'compose.monitoring.yaml'),
        readFileSync(join(DEPLOY, 'compose.monitoring.yaml')),
      );
      writeFileSync(join(dir, '.env'), '');
      const config = (files: string[], env: Record<string, string>) => {
        const { LIVECHAT_WEBHOOK_SECRETS: _s, GRAFANA_ADMIN_PASSWORD: _g, ...rest } = process.env;
        return spawnSync(
          DOCKER_COMPOSE,
          [...files.flatMap((file) => ['-f', file]), 'config', '-q'],
          { cwd: dir, encoding: 'utf8', env: { ...rest, ...env } },
        );
      };
      const base = config(['compose.yaml'], { LIVECHAT_WEBHOOK_SECRETS: 'x' });
      expect(base.status, base.stderr).toBe(0);
      const monitored = config(['compose.yaml', 'compose.monitoring.yaml'], {
        LIVECHAT_WEBHOOK_SECRETS: 'x',
        GRAFANA_ADMIN_PASSWORD: 'y',
      });
      expect(monitored.status, monitored.stderr).toBe(0);
      // A required setting left out is refused with its message.
      const unset = config(['compose.yaml'], {});
      expect(unset.status).not.toBe(0);
      expect(unset.stderr).toContain('set LIVECHAT_WEBHOOK_SECRETS in .env');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("compose.yaml runs each app's tested entry point, each with a healthcheck", () => {
    const { services } = ComposeFile.parse(parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')));
    const apps = Object.entries(services).flatMap(([name, service]) => {
      const entry = /^apps\/([^/]+)\/dist\/main\.js$/.exec(service.command?.[1] ?? '')?.[1];
      return entry ? [{ name, app: entry, healthcheck: service.healthcheck }] : [];
    });
    expect(apps.map(({ app }) => app).sort()).toEqual(['dashboard', 'ingest', 'worker']);
    for (const { name, app, healthcheck } of apps) {
      // The same file the tests start: the package's ./main export, built from src/main.ts.
      const manifest = JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8'));
      expect(manifest.exports['./main'].default, name).toBe('./dist/main.js');
      expect(existsSync(join(ROOT, 'apps', app, 'src', 'main.ts')), name).toBe(true);
      expect(healthcheck, name).toBeDefined();
    }
  });
});
