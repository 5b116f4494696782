import { redactText, redactValue, sanitizeCause } from './errors.js';

/**
 * The secrets a client knows, and the redaction of everything that could carry one: error
 * messages, causes, LiveChat's `error.data`, log lines.
 */
export type Redactor = {
  /** A secret learnt after the client was built: a bot token, a secret in a request. */
  add: (secret: string) => void;
  text: (text: string) => string;
  value: (value: unknown) => unknown;
  /** A sanitized stand-in for a thrown value (see `sanitizeCause`). */
  cause: (err: unknown) => Error;
};

/** A redactor starting with `secrets`. */
export const createRedactor = (secrets: Iterable<string>): Redactor => {
  const known = new Set(secrets);
  return {
    add: (secret) => {
      known.add(secret);
    },
    text: (text) => redactText(text, known),
    value: (value) => redactValue(value, known),
    cause: (err) => sanitizeCause(err, known),
  };
};
