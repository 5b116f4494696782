import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  chatIdOfEnvelope,
  isWebhookAction,
  organizationOf,
  WebhookEnvelope,
} from '@nudge/livechat';
import { deriveDedupeKey, type LivechatEventJob } from '@nudge/queues';
import type { Logger } from '@nudge/telemetry';
import type { IngestMetrics, WebhookOutcome } from './metrics.js';

// LiveChat payloads nest about 8 levels deep; far deeper input is hostile, and would overflow
// the stack later (hashing, serialising) where it could only be answered with a 5xx.
const MAX_JSON_DEPTH = 64;

export type WebhookHandlerOptions = {
  /** Stores a webhook; resolves once Redis has it. */
  enqueue: (job: LivechatEventJob) => Promise<string>;
  /** Checks a `secret_key` in constant time. */
  verifySecret: (candidate: unknown) => boolean;
  bodyLimitBytes: number;
  /** Longest wait for Redis before answering 503 (LiveChat gives up after ~10 s). */
  ackTimeoutMs: number;
  metrics: IngestMetrics;
  log: Logger;
  /** True once shutdown began: answers then carry `Connection: close`. */
  isClosing: () => boolean;
};

type Reply = { status: number; outcome: WebhookOutcome; body: Record<string, unknown> };

const reject = (
  status: number,
  outcome: WebhookOutcome,
  error: string,
  message: string,
): Reply => ({
  status,
  outcome,
  body: { error, message },
});

const isJsonContentType = (header: string | undefined): boolean => {
  if (header === undefined) {
    return false;
  }
  const type = header.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
};

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when JSON text nests deeper than `max`; a byte scan, before parsing, allocating nothing. */
const exceedsDepth = (json: Buffer, max: number): boolean => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i += 1) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH) {
        i += 1;
      } else if (byte === QUOTE) {
        inString = false;
      }
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > max) {
        return true;
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
};

const describeIssue = (issue: { path: PropertyKey[]; message: string } | undefined): string =>
  issue ? `${issue.path.map(String).join('.') || 'body'}: ${issue.message}` : 'invalid envelope';

/**
 * Decides the answer to one parsed webhook body. Everything before `enqueue` is synchronous
 * and cheap; the only I/O is one Redis round trip.
 */
const classify = (
  body: unknown,
  { verifySecret }: Pick<WebhookHandlerOptions, 'verifySecret'>,
): { reply: Reply; action?: string } | { job: LivechatEventJob; action: string } => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { reply: reject(400, 'invalid', 'invalid_body', 'body must be a JSON object') };
  }
  // Authenticate before validating, so strangers learn nothing about the expected shape.
  if (!verifySecret((body as { secret_key?: unknown }).secret_key)) {
    return { reply: reject(401, 'unauthorized', 'unauthorized', 'missing or wrong secret_key') };
  }
  const parsed = WebhookEnvelope.safeParse(body);
  if (!parsed.success) {
    return {
      reply: reject(400, 'invalid', 'invalid_envelope', describeIssue(parsed.error.issues[0])),
    };
  }
  const { secret_key: _secret, ...envelope } = parsed.data;
  const { action } = envelope;
  if (!isWebhookAction(action)) {
    // 200, or LiveChat would retry an action we will never handle.
    return { action, reply: { status: 200, outcome: 'ignored', body: { status: 'ignored' } } };
  }
  const organizationId = organizationOf(envelope);
  const chatId = chatIdOfEnvelope(envelope);
  return {
    action,
    job: {
      organizationId,
      envelope,
      dedupeKey: deriveDedupeKey({ organizationId, action, payload: envelope.payload }),
      receivedAt: Date.now(),
      ...(chatId === undefined ? {} : { chatId }),
    },
  };
};

/**
 * `POST /livechat/webhooks`, on plain node:http request/response objects: 200 only once the
 * webhook is in Redis, 503 when Redis can't take it within `ackTimeoutMs`, 400/401/413/415
 * with a reason for bad input. It never throws and never answers 500.
 */
export const createWebhookHandler = (options: WebhookHandlerOptions) => {
  const { bodyLimitBytes, ackTimeoutMs, enqueue, metrics, log, isClosing } = options;

  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    let answered = false;
    const answer = (reply: Reply, action = 'unknown'): void => {
      if (answered) {
        return;
      }
      answered = true;
      const payload = JSON.stringify(reply.body);
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      };
      if (isClosing() || reply.status === 413) {
        // 413: the rest of the body is not read, so this connection can't carry another request.
        headers.connection = 'close';
      }
      res.writeHead(reply.status, headers);
      res.end(payload);
      const seconds = (performance.now() - started) / 1_000;
      metrics.recordWebhook(
        isWebhookAction(action) ? action : 'other',
        reply.outcome,
        reply.status,
        seconds,
      );
    };

    if (!isJsonContentType(req.headers['content-type'])) {
      answer(
        reject(
          415,
          'unsupported_media_type',
          'unsupported_media_type',
          'Content-Type must be application/json',
        ),
      );
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > bodyLimitBytes) {
      answer(reject(413, 'too_large', 'payload_too_large', `body exceeds ${bodyLimitBytes} bytes`));
      req.resume();
      return;
    }

    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      if (answered) {
        return;
      }
      received += chunk.length;
      if (received > bodyLimitBytes) {
        chunks.length = 0;
        answer(
          reject(413, 'too_large', 'payload_too_large', `body exceeds ${bodyLimitBytes} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    // A client that disconnects mid-body gets no answer; nothing was stored.
    req.on('error', () => {});
    req.on('end', () => {
      if (answered) {
        return;
      }
      const raw = Buffer.concat(chunks, received);
      if (exceedsDepth(raw, MAX_JSON_DEPTH)) {
        answer(
          reject(
            400,
            'invalid',
            'invalid_body',
            `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
          ),
        );
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        answer(reject(400, 'invalid', 'invalid_json', 'body is not valid JSON'));
        return;
      }
      const decision = classify(body, options);
      if ('reply' in decision) {
        if (decision.reply.status === 401) {
          log.warn({ remoteAddress: req.socket.remoteAddress }, 'webhook rejected: bad secret');
        } else if (decision.reply.status === 200) {
          log.info({ action: decision.action }, 'webhook ignored: action not handled');
        } else {
          log.warn({ reason: decision.reply.body.message }, 'webhook rejected: invalid');
        }
        answer(decision.reply, decision.action);
        return;
      }
      const { job, action } = decision;
      const timer = setTimeout(() => {
        log.error(
          { action, jobId: job.dedupeKey, timeoutMs: ackTimeoutMs },
          'webhook not stored in time',
        );
        answer(reject(503, 'unavailable', 'unavailable', 'queue unavailable, retry later'), action);
      }, ackTimeoutMs);
      enqueue(job).then(
        (jobId) => {
          clearTimeout(timer);
          if (answered) {
            // Stored after we answered 503: LiveChat's retry will hit the same job id.
            log.warn({ action, jobId }, 'webhook stored after its 503');
            return;
          }
          log.debug({ action, jobId }, 'webhook stored');
          answer(
            { status: 200, outcome: 'stored', body: { status: 'stored', job_id: jobId } },
            action,
          );
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.error({ err, action, jobId: job.dedupeKey }, 'webhook not stored');
          answer(
            reject(503, 'unavailable', 'unavailable', 'queue unavailable, retry later'),
            action,
          );
        },
      );
    });
  };
};
