import { BallastError } from './errors.js';

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** Whether a value is a plain JSON object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The fields of `source` not named in `known`, or undefined when there are none.
 * They travel in `providerOptions` so that a same-dialect round trip keeps them.
 */
export function unknownFields(source: JsonObject, known: ReadonlySet<string>): JsonObject | undefined {
  let rest: JsonObject | undefined;
  for (const key of Object.keys(source)) {
    if (known.has(key)) continue;
    rest ??= {};
    rest[key] = source[key];
  }
  return rest;
}

/** Throws a conversion error naming the field and what was expected. */
export function invalid(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  throw new BallastError('CORE_INVALID_REQUEST', `${path}: expected ${expected}, got ${got}`, {
    status: 400,
    details: { path, expected },
  });
}

/** Throws for a valid field that has no neutral equivalent. */
export function unsupported(path: string, what: string): never {
  throw new BallastError('CORE_CONVERSION_UNSUPPORTED', `${path}: ${what} cannot be converted`, {
    status: 400,
    details: { path },
  });
}

/** Reads a required string field. */
export function requireString(source: JsonObject, key: string, path: string): string {
  const value = source[key];
  if (typeof value !== 'string') invalid(`${path}.${key}`, 'a string', value);
  return value;
}

/** Reads an optional finite number field. */
export function optionalNumber(source: JsonObject, key: string, path: string): number | undefined {
  const value = source[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(`${path}.${key}`, 'a number', value);
  return value;
}

/** Reads an optional array field. */
export function optionalArray(source: JsonObject, key: string, path: string): unknown[] | undefined {
  const value = source[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) invalid(`${path}.${key}`, 'an array', value);
  return value;
}

/** Parses tool-call arguments into the object Anthropic requires. */
export function parseToolArguments(text: string, path: string): JsonObject {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BallastError(
      'CORE_INVALID_TOOL_ARGUMENTS',
      `${path}: tool-call arguments are not valid JSON, so they cannot be sent as an object`,
      { cause: error, status: 400, details: { path } },
    );
  }
  if (!isJsonObject(parsed)) invalid(path, 'tool-call arguments that are a JSON object', parsed);
  return parsed;
}

/** The fields every request of either dialect starts with, checked. */
export function readRequestHead(body: unknown): { body: JsonObject; model: string; messages: unknown[] } {
  if (!isJsonObject(body)) invalid('body', 'a JSON object', body);
  const model = requireString(body, 'model', 'body');
  const messages = optionalArray(body, 'messages', 'body');
  if (!messages) invalid('body.messages', 'an array of messages', body.messages);
  return { body, model, messages };
}
