import { OAuthError } from "../errors";

/**
 * Small readers for admin JSON bodies. Each failure is a 400 whose
 * description names the field, so an operator sees what to fix.
 */

export type JsonObject = Record<string, unknown>;

/**
 * A 400 invalid_request that names the field at fault, and keeps its name,
 * so that a caller with its own error codes (RFC 7591 registration:
 * invalid_redirect_uri, invalid_client_metadata) can tell which field it was.
 */
export class FieldError extends OAuthError {
  readonly field: string;
  constructor(field: string, message: string) {
    super("invalid_request", `${field}: ${message}.`);
    this.field = field;
  }
}

export const fieldError = (field: string, message: string) => new FieldError(field, message);

export function asObject(value: unknown, field = "body"): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fieldError(field, "must be a JSON object");
  }
  return value as JsonObject;
}

export function rejectUnknown(object: JsonObject, allowed: readonly string[], prefix = ""): void {
  for (const name of Object.keys(object)) {
    if (!allowed.includes(name)) {
      const shown = /^[A-Za-z_]{1,40}$/.test(name) ? name : "(a field)";
      throw fieldError(`${prefix}${shown}`, "is not a known field");
    }
  }
}

export function optionalString(object: JsonObject, field: string, max = 200): string | undefined {
  const value = object[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw fieldError(field, `must be a string of 1 to ${max} characters`);
  }
  return value;
}

export function optionalInteger(
  object: JsonObject,
  field: string,
  min: number,
  max: number,
  prefix = "",
): number | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw fieldError(`${prefix}${field}`, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function optionalBoolean(
  object: JsonObject,
  field: string,
  prefix = "",
): boolean | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw fieldError(`${prefix}${field}`, "must be true or false");
  return value;
}

export function optionalEnum<T extends string>(
  object: JsonObject,
  field: string,
  values: readonly T[],
  prefix = "",
): T | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !values.includes(value as T)) {
    throw fieldError(`${prefix}${field}`, `must be one of ${values.join(", ")}`);
  }
  return value as T;
}

export function optionalStringArray(
  object: JsonObject,
  field: string,
  maxItems = 20,
): string[] | undefined {
  const value = object[field];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > maxItems ||
    value.some((v) => typeof v !== "string")
  ) {
    throw fieldError(field, `must be an array of at most ${maxItems} strings`);
  }
  return value as string[];
}
