/** A JSON value as it travels over the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

/** True for a plain JSON object (not an array, not null). */
export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A deep copy, so snapshots handed out (webhook bodies, journal entries) never change later. */
export const cloneJson = <T>(value: T): T => structuredClone(value);
