import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { JsonObject } from './json.js';

// JSON over HTTP: request bodies in, responses out.

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The request body as text; `entity_too_large` past 10 MB. */
export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('entity_too_large', 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** An empty body reads as `{}`; text that is not JSON answers `validation`. */
export const parseJson = (text: string): unknown => {
  if (text.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('validation', 'Request body is not valid JSON');
  }
};

/** Answers with `body` as JSON, unless the response is already gone or started. */
export const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  if (res.destroyed || res.headersSent) {
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
};

/** The body of a 500 answer to an unexpected error. */
export const internalErrorBody = (err: unknown): { error: JsonObject } => ({
  error: { type: 'internal', message: String(err) },
});

/** The error answer: an ApiError's own, anything else `internal` (500). */
export const errorAnswer = (err: unknown): { status: number; body: { error: JsonObject } } =>
  err instanceof ApiError
    ? { status: err.status, body: err.toBody() }
    : { status: 500, body: internalErrorBody(err) };
