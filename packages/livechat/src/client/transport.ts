import { Agent, request } from 'undici';
import { z } from 'zod';
import {
  classifyLivechatError,
  createLivechatError,
  LivechatError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
} from './errors.js';
import type { Redactor } from './redaction.js';
import type { LivechatRegionStore } from './region.js';
import { ErrorResponse } from './schemas.js';

export const LIVECHAT_API_VERSIONS = ['3.5', '3.6'] as const;
export type LivechatApiVersion = (typeof LIVECHAT_API_VERSIONS)[number];

/** pino-compatible. */
export type LivechatLogger = { warn: (obj: object, msg: string) => void };

export type RequestOptions = {
  /** Aborts the call (combined with the timeout). */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
};

export type LivechatApi = 'agent' | 'configuration';

export type LivechatCall<S extends z.ZodType> = {
  api: LivechatApi;
  action: string;
  body: object;
  schema: S;
};

/** Sends a call and returns LiveChat's answer, validated with the call's schema. */
export type LivechatCaller = <S extends z.ZodType>(
  call: LivechatCall<S>,
  options?: RequestOptions,
) => Promise<z.output<S>>;

/** One HTTP call as it went, for metrics: its action, how long it took, and how it failed. */
export type LivechatCallObservation = {
  action: string;
  durationMs: number;
  /** LiveChat's error type (`authentication`, `timeout`, …) when the call failed. */
  errorType?: string;
};

/** A caller sending `headers` (the credentials) with each call. */
export type LivechatTransport = (headers: Record<string, string>) => LivechatCaller;

/** What the transport reads of an HTTP answer. */
export type HttpAnswer = {
  status: number;
  /** A response header's value (names are case-insensitive), or null. */
  header: (name: string) => string | null;
  text: string;
};

/** One POST with a JSON body; rejects when `signal` aborts or the network fails. */
export type HttpPost = (
  url: string,
  init: { headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<HttpAnswer>;

// One keep-alive pool per process for every client (LiveChat is a handful of origins). Idle
// sockets don't keep the process alive.
let sharedAgent: Agent | undefined;

/**
 * POST through undici's `request` on a shared keep-alive pool: a third of the CPU of `fetch`
 * per call (measured: `fetch` builds WHATWG streams for every body), the same HTTP.
 */
export const undiciPost: HttpPost = async (url, { headers, body, signal }) => {
  sharedAgent ??= new Agent({ keepAliveTimeout: 30_000 });
  const response = await request(url, {
    method: 'POST',
    headers,
    body,
    signal,
    dispatcher: sharedAgent,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    header: (name) => {
      const value = response.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    text,
  };
};

/** The same POST through a `fetch` (tests inject one to shape LiveChat's answers). */
export const fetchPost =
  (fetchImpl: typeof fetch): HttpPost =>
  async (url, { headers, body, signal }) => {
    const response = await fetchImpl(url, { method: 'POST', headers, body, signal });
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name), text };
  };

type CreateTransportOptions = {
  baseUrl: string;
  version: LivechatApiVersion;
  /** Per HTTP call, unless the call says otherwise. */
  timeoutMs: number;
  /** Sent as `X-Region`; moved where a misdirected_request says. */
  regionStore: LivechatRegionStore;
  redactor: Redactor;
  post: HttpPost;
  /** `version:header` of the `Legacy`/`Deprecation` headers already logged. */
  seenNoticeHeaders: Set<string>;
  log?: LivechatLogger;
  onCall?: (observation: LivechatCallObservation) => void;
};

/** What every call of one transport shares. */
type TransportContext = Omit<CreateTransportOptions, 'baseUrl'> & { root: string };
type Answer = { status: number; body: unknown };
type CallDetails = { action: string; version: LivechatApiVersion };

const NOTICE_HEADERS = ['Legacy', 'Deprecation'] as const;

const parseRetryAfter = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
};

/** The region a misdirected_request error names in `error.data.region`, if any. */
const misdirectedTo = (err: unknown): string | undefined => {
  if (!(err instanceof LivechatError) || err.type !== 'misdirected_request') {
    return undefined;
  }
  const { data } = err;
  const region =
    typeof data === 'object' && data !== null && 'region' in data ? data.region : undefined;
  return typeof region === 'string' && region !== '' ? region : undefined;
};

/** Logs each `Legacy`/`Deprecation` header once per (version, header). */
const logNoticeHeaders = (
  { version, seenNoticeHeaders, redactor, log }: TransportContext,
  answer: HttpAnswer,
  action: string,
) => {
  for (const header of NOTICE_HEADERS) {
    const value = answer.header(header);
    const key = `${version}:${header}`;
    if (value !== null && !seenNoticeHeaders.has(key)) {
      seenNoticeHeaders.add(key);
      const redacted = redactor.text(value);
      log?.warn(
        { version, header, value: redacted, action },
        `LiveChat API v${version} answered with ${header}: ${redacted}; plan the move to a newer version`,
      );
    }
  }
};

/** Why no answer arrived: our timeout, the caller's signal, or the network. */
const fetchFailure = (
  err: unknown,
  { timeout, signal, timeoutMs }: { timeout: AbortSignal; signal?: AbortSignal; timeoutMs: number },
  details: CallDetails,
  redactor: Redactor,
): LivechatError => {
  if (timeout.aborted) {
    return new LivechatRetryableError({
      ...details,
      type: 'timeout',
      message: `no answer within ${timeoutMs} ms`,
    });
  }
  if (signal?.aborted) {
    return new LivechatRetryableError({
      ...details,
      type: 'aborted',
      message: 'aborted by the caller',
    });
  }
  const cause = redactor.cause(err);
  return new LivechatRetryableError({
    ...details,
    type: 'network_error',
    message: cause.message,
    cause,
  });
};

/** The LivechatError a non-2xx answer stands for: LiveChat's error body, else its status. */
const answerFailure = (
  response: HttpAnswer,
  json: unknown,
  details: CallDetails,
  redactor: Redactor,
): LivechatError => {
  const { status, text } = response;
  const retryAfterMs = parseRetryAfter(response.header('retry-after'));
  const retryAfter = retryAfterMs === undefined ? {} : { retryAfterMs };
  const error = ErrorResponse.safeParse(json);
  if (error.success) {
    const { type, message, data } = error.data.error;
    return createLivechatError(classifyLivechatError({ type, status }), {
      ...details,
      status,
      type,
      message: redactor.text(message ?? '(no message)'),
      ...(data === undefined ? {} : { data: redactor.value(data) }),
      ...retryAfter,
    });
  }
  const snippet = redactor.text(text).slice(0, 200).trim();
  return createLivechatError(classifyLivechatError({ status }), {
    ...details,
    status,
    type: 'http_error',
    message: `HTTP ${status} without a LiveChat error body${snippet ? `: ${snippet}` : ''}`,
    ...retryAfter,
  });
};

/** A 2xx answer's JSON body; anything else thrown as a LivechatError. */
const readAnswer = (response: HttpAnswer, details: CallDetails, redactor: Redactor): Answer => {
  const { status, text } = response;
  let json: unknown;
  let isJson = true;
  try {
    json = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (status < 200 || status > 299) {
    throw answerFailure(response, json, details, redactor);
  }
  if (!isJson) {
    throw new LivechatUnrecoverableError({
      ...details,
      status,
      type: 'invalid_response',
      message: 'the response is not JSON',
    });
  }
  // "200, no payload" actions may answer with an empty body.
  return { status, body: json ?? {} };
};

/** One HTTP call, in the current region, within the timeout; observed when asked. */
const postOnce = async (
  context: TransportContext,
  call: LivechatCall<z.ZodType>,
  headers: Record<string, string>,
  options: RequestOptions,
): Promise<Answer> => {
  if (context.onCall === undefined) {
    return postUnobserved(context, call, headers, options);
  }
  const started = performance.now();
  const observe = (errorType?: string) =>
    context.onCall?.({
      action: call.action,
      durationMs: performance.now() - started,
      ...(errorType === undefined ? {} : { errorType }),
    });
  try {
    const answer = await postUnobserved(context, call, headers, options);
    observe();
    return answer;
  } catch (err) {
    observe(err instanceof LivechatError ? err.type : 'unknown');
    throw err;
  }
};

const postUnobserved = async (
  context: TransportContext,
  { api, action, body }: LivechatCall<z.ZodType>,
  headers: Record<string, string>,
  { signal, timeoutMs = context.timeoutMs }: RequestOptions,
): Promise<Answer> => {
  const { root, version, regionStore, redactor } = context;
  const region = regionStore.get();
  // Not AbortSignal.timeout: its timer lives the whole timeoutMs after the call returned (two
  // per bot action, thousands pending under load); this one is cleared with the call.
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DOMException('LiveChat call timed out', 'TimeoutError')),
    timeoutMs,
  );
  timer.unref();
  const timeout = deadline.signal;
  const details = { action, version };
  let response: HttpAnswer;
  try {
    response = await context.post(`${root}/v${version}/${api}/action/${action}`, {
      headers: {
        'Content-Type': 'application/json',
        ...headers,
        ...(region === undefined ? {} : { 'X-Region': region }),
      },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
  } catch (err) {
    throw fetchFailure(err, { timeout, signal, timeoutMs }, details, redactor);
  } finally {
    clearTimeout(timer);
  }
  logNoticeHeaders(context, response, action);
  return readAnswer(response, details, redactor);
};

/**
 * One call, retried once in the right data center when LiveChat answers misdirected_request
 * with `error.data.region` ("this is where the client should be connected"); the region is
 * remembered for the organization's other calls. Anything else, or a second misdirection,
 * is thrown (misdirected_request is retryable: the next attempt goes to the new region).
 */
const post = async (
  context: TransportContext,
  call: LivechatCall<z.ZodType>,
  headers: Record<string, string>,
  options: RequestOptions,
): Promise<Answer> => {
  const { regionStore, log, version } = context;
  try {
    return await postOnce(context, call, headers, options);
  } catch (err) {
    const region = misdirectedTo(err);
    if (region === undefined || region === regionStore.get()) {
      throw err;
    }
    log?.warn(
      { action: call.action, version, from: regionStore.get() ?? 'dal', region },
      'LiveChat misdirected the request; retrying in its region and staying there',
    );
    regionStore.set(region);
    return postOnce(context, call, headers, options);
  }
};

const validate = <S extends z.ZodType>(
  { version, redactor }: TransportContext,
  { action, schema }: LivechatCall<S>,
  answer: Answer,
): z.output<S> => {
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) {
    throw new LivechatUnrecoverableError({
      action,
      version,
      status: answer.status,
      type: 'invalid_response',
      message: redactor.text(
        `the response does not match our schema: ${z.prettifyError(parsed.error)}`,
      ),
    });
  }
  return parsed.data;
};

/**
 * LiveChat over HTTP: a POST per call with the timeout, JSON answers checked against the
 * call's schema, failures as LivechatErrors free of secrets.
 */
export const createTransport = ({
  baseUrl,
  ...shared
}: CreateTransportOptions): LivechatTransport => {
  const context: TransportContext = {
    ...shared,
    root: new URL(baseUrl).toString().replace(/\/+$/, ''),
  };
  return (headers) =>
    async (call, options = {}) =>
      validate(context, call, await post(context, call, headers, options));
};
