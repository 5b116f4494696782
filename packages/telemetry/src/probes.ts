/** A service's `/readyz`: ready, or why not (ingest and worker answer alike). */
export type Readiness = () => Promise<{ ready: true } | { ready: false; reason: string }>;
