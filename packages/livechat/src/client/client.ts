import { createAuthenticatedCaller, type LivechatAuth, secretsOf } from './auth.js';
import {
  createLivechatMethods,
  type LivechatMethods,
  type LivechatSkippedEvent,
} from './methods.js';
import { createRedactor } from './redaction.js';
import { createRegionStore, type LivechatRegionStore } from './region.js';
import {
  createTransport,
  fetchPost,
  LIVECHAT_API_VERSIONS,
  type LivechatApiVersion,
  type LivechatCaller,
  type LivechatCallObservation,
  type LivechatLogger,
  undiciPost,
} from './transport.js';

// The client's public types live with the part they describe; the package exports them from here.
export type { LivechatAuth, LivechatIssuerAuth } from './auth.js';
export type { LivechatSkippedEvent } from './methods.js';
export type { LivechatApiVersion, LivechatCallObservation, LivechatLogger } from './transport.js';

const DEFAULT_LIVECHAT_BASE_URL = 'https://api.livechatinc.com';
const DEFAULT_LIVECHAT_TIMEOUT_MS = 10_000;

export type CreateLivechatClientOptions = {
  auth: LivechatAuth;
  /** Default `https://api.livechatinc.com`. */
  baseUrl?: string;
  /** Default 3.6. */
  version?: LivechatApiVersion;
  /** Per HTTP call; default 10 s. */
  timeoutMs?: number;
  /** Sent as `X-Region` (e.g. `fra`) when set; the start of `regionStore` when that is omitted. */
  region?: string;
  /**
   * The organization's region, shared by its clients: on misdirected_request the client
   * retries once where `error.data.region` says and remembers it here. One per client by
   * default.
   */
  regionStore?: LivechatRegionStore;
  log?: LivechatLogger;
  /** Calls go through this `fetch` when given (tests); through undici's keep-alive pool otherwise. */
  fetch?: typeof fetch;
  /**
   * Remembers which `Legacy`/`Deprecation` headers were logged; share one set between clients
   * to log each (version, header) once per process. One per client by default.
   */
  seenNoticeHeaders?: Set<string>;
  /**
   * Called for each event of a get_chat / list_threads thread that didn't parse and was left
   * out of `events` (the chat itself still answers). Without it the client logs a warning.
   */
  onSkippedEvent?: (skipped: LivechatSkippedEvent) => void;
  /** Called after each HTTP call (for metrics: latency, errors by type). */
  onCall?: (observation: LivechatCallObservation) => void;
};

export type LivechatClient = LivechatMethods & {
  readonly version: LivechatApiVersion;
  /** Any other action, validated with `schema`; same auth, timeout and errors. */
  call: LivechatCaller;
};

const checkOptions = (auth: LivechatAuth, version: LivechatApiVersion, timeoutMs: number) => {
  if (!(LIVECHAT_API_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(`LiveChat API version must be one of ${LIVECHAT_API_VERSIONS.join(', ')}`);
  }
  if (!(timeoutMs > 0)) {
    throw new Error('LiveChat client timeoutMs must be positive');
  }
  if (auth.type !== 'bot' && auth.authorId !== undefined && version !== '3.5') {
    throw new Error(
      'X-Author-Id (authorId) was removed in LiveChat API v3.6: use bot auth, or version 3.5',
    );
  }
};

/** A LiveChat Agent Chat + Configuration API client for one set of credentials. */
export const createLivechatClient = ({
  auth,
  baseUrl = DEFAULT_LIVECHAT_BASE_URL,
  version = '3.6',
  timeoutMs = DEFAULT_LIVECHAT_TIMEOUT_MS,
  region,
  regionStore = createRegionStore(region),
  log,
  fetch: fetchImpl,
  seenNoticeHeaders = new Set<string>(),
  onSkippedEvent,
  onCall,
}: CreateLivechatClientOptions): LivechatClient => {
  checkOptions(auth, version, timeoutMs);
  // Everything that must never reach an error message, a cause or a log line. Bot tokens are
  // added as they are obtained.
  const redactor = createRedactor(secretsOf(auth));
  const transport = createTransport({
    baseUrl,
    version,
    timeoutMs,
    regionStore,
    redactor,
    post: fetchImpl === undefined ? undiciPost : fetchPost(fetchImpl),
    seenNoticeHeaders,
    log,
    ...(onCall === undefined ? {} : { onCall }),
  });
  const call = createAuthenticatedCaller({ auth, transport, redactor, version, timeoutMs, log });
  return {
    version,
    ...createLivechatMethods({ call, version, redactor, onSkippedEvent, log }),
    call,
  };
};
