import { collectDefaultMetrics, Registry } from 'prom-client';

/** A fresh prom-client registry with Node's process metrics, labelled with the service. */
export const createMetricsRegistry = ({ service }: { service: string }): Registry => {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
};

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';
