import { fieldError } from "../../lib/json-fields";

/**
 * Readers that turn one form control into its JSON value. They decide only
 * the shape (a number, a list, a tri-state); every rule about the value is
 * the admin service's, which refuses it by the same field name.
 */

/** A text control, trimmed. */
export const text = (form: URLSearchParams, name: string): string => (form.get(name) ?? "").trim();

/** A text control, or undefined when left empty. */
export const optionalText = (form: URLSearchParams, name: string): string | undefined =>
  text(form, name) || undefined;

/**
 * A number control: undefined when empty (the default applies); otherwise
 * the number typed, or NaN for something else, which the service refuses
 * with its own range ("must be a whole number from … to …").
 */
export function optionalNumber(form: URLSearchParams, name: string): number | undefined {
  const value = text(form, name);
  return value === "" ? undefined : /^-?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
}

/** A checkbox: checked or not. */
export const checked = (form: URLSearchParams, name: string): boolean => form.has(name);

/**
 * A select of "provider default" (empty), "true" and "false": undefined,
 * true or false. Anything else is kept as typed, for the service to refuse.
 */
export function triState(form: URLSearchParams, name: string): boolean | string | undefined {
  const value = text(form, name);
  if (value === "") return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

/** A textarea of one item per line; blank lines are nothing. */
export const lines = (form: URLSearchParams, name: string): string[] =>
  (form.get(name) ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");

/** A textarea holding JSON, or undefined when empty. */
export function optionalJson(form: URLSearchParams, name: string, what: string): unknown {
  const value = text(form, name);
  if (value === "") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw fieldError(name, `must be ${what} written as JSON`);
  }
}

/** Drops the members whose value is undefined (left at the default). */
export function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
