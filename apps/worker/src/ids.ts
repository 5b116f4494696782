import { hash } from 'node:crypto';

/** A BullMQ-safe id (no `:`, never all digits): `<kind>-<128-bit hex of the parts>`. */
export const jobIdFor = (kind: string, ...parts: string[]): string =>
  `${kind}-${hash('sha256', parts.join('\u0000'), 'hex').slice(0, 32)}`;
