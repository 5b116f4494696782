import { validationError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

// Request validation with LiveChat's field names: a missing or wrongly typed field answers
// `validation` with a message naming the field (dotted path for nested fields).

const at = (body: JsonObject, key: string): JsonValue | undefined => body[key];

const describe = (path: string, expected: string): Error =>
  validationError(`\`${path}\` must be ${expected}`);

const missing = (path: string): Error => validationError(`\`${path}\` is required`);

export const optionalString = (
  body: JsonObject,
  key: string,
  path = key,
  { maxLength }: { maxLength?: number } = {},
): string | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw describe(path, 'a string');
  }
  if (maxLength !== undefined && value.length > maxLength) {
    throw validationError(`\`${path}\` must be at most ${maxLength} characters`);
  }
  return value;
};

export const requireString = (
  body: JsonObject,
  key: string,
  path = key,
  options: { maxLength?: number } = {},
): string => {
  const value = optionalString(body, key, path, options);
  if (value === undefined || value === '') {
    throw missing(path);
  }
  return value;
};

export const optionalBoolean = (body: JsonObject, key: string, path = key): boolean | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw describe(path, 'a boolean');
  }
  return value;
};

export const optionalInteger = (
  body: JsonObject,
  key: string,
  path = key,
  { min, max }: { min?: number; max?: number } = {},
): number | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw describe(path, 'an integer');
  }
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw validationError(`\`${path}\` must be between ${min ?? '-∞'} and ${max ?? '∞'}`);
  }
  return value;
};

export const optionalObject = (
  body: JsonObject,
  key: string,
  path = key,
): JsonObject | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (!isJsonObject(value)) {
    throw describe(path, 'an object');
  }
  return value;
};

export const requireObject = (body: JsonObject, key: string, path = key): JsonObject => {
  const value = optionalObject(body, key, path);
  if (value === undefined) {
    throw missing(path);
  }
  return value;
};

export const optionalStringArray = (
  body: JsonObject,
  key: string,
  path = key,
): string[] | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw describe(path, 'an array of strings');
  }
  return value as string[];
};

export const optionalIntegerArray = (
  body: JsonObject,
  key: string,
  path = key,
): number[] | undefined => {
  const value = at(body, key);
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || value.some((item) => !Number.isInteger(item))) {
    throw describe(path, 'an array of integers');
  }
  return value as number[];
};

export const optionalEnum = <T extends string>(
  body: JsonObject,
  key: string,
  allowed: readonly T[],
  path = key,
): T | undefined => {
  const value = optionalString(body, key, path);
  if (value === undefined) {
    return undefined;
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw describe(path, `one of: ${allowed.join(', ')}`);
  }
  return value as T;
};

export const requireEnum = <T extends string>(
  body: JsonObject,
  key: string,
  allowed: readonly T[],
  path = key,
): T => {
  const value = optionalEnum(body, key, allowed, path);
  if (value === undefined) {
    throw missing(path);
  }
  return value;
};

/** Rejects keys outside `allowed` (used where a version renamed a field, so old names fail loudly). */
export const rejectUnknownKeys = (
  body: JsonObject,
  allowed: readonly string[],
  path: string,
): void => {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw validationError(`\`${path}.${key}\` is not supported`);
    }
  }
};
