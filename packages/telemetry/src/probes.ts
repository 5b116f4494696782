/** A service's `/readyz`: ready, or why not (ingest, worker and dashboard answer alike). */
export type Readiness = () => Promise<{ ready: true } | { ready: false; reason: string }>;

type ReadinessState = Awaited<ReturnType<Readiness>>;

/**
 * What every `/readyz` answers: 200 `{ status: 'ready' }`, or 503 `{ status: 'not_ready',
 * reason }`.
 */
export const readinessAnswer = (
  state: ReadinessState,
): { status: 200 | 503; body: { status: 'ready' } | { status: 'not_ready'; reason: string } } =>
  state.ready
    ? { status: 200, body: { status: 'ready' } }
    : { status: 503, body: { status: 'not_ready', reason: state.reason } };
