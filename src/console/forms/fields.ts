import { fieldError } from "../../lib/json-fields";

/**
 * A posted form as the console reads it: the sign-in layer's Params (no
 * name twice, an empty value is no value), or URLSearchParams in tests and
 * for the values a page starts from. Checkbox groups are one name per box
 * (`grant_types.refresh_token`), so no name repeats.
 */
export interface FormFields {
  get(name: string): string | null | undefined;
}

/**
 * Readers that turn one form control into its JSON value. They decide only
 * the shape (a number, a list, a tri-state); every rule about the value is
 * the admin service's, which refuses it by the same field name.
 */

/** A text control, trimmed. */
export const text = (form: FormFields, name: string): string => (form.get(name) ?? "").trim();

/** A text control, or undefined when left empty. */
export const optionalText = (form: FormFields, name: string): string | undefined =>
  text(form, name) || undefined;

/**
 * A number control: undefined when empty (the default applies); otherwise
 * the number typed, or NaN for something else, which the service refuses
 * with its own range ("must be a whole number from … to …").
 */
export function optionalNumber(form: FormFields, name: string): number | undefined {
  const value = text(form, name);
  return value === "" ? undefined : /^-?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
}

/** A checkbox: checked or not. */
export const checked = (form: FormFields, name: string): boolean => Boolean(form.get(name));

/**
 * A select of "provider default" (empty), "true" and "false": undefined,
 * true or false. Anything else is kept as typed, for the service to refuse.
 */
export function triState(form: FormFields, name: string): boolean | string | undefined {
  const value = text(form, name);
  if (value === "") return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

/** A textarea of one item per line; blank lines are nothing. */
export const lines = (form: FormFields, name: string): string[] =>
  (form.get(name) ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");

/** The name of one box of a checkbox group. */
export const boxName = (group: string, option: string): string => `${group}.${option}`;

/** A checkbox group: the options whose box is checked, in the options' order. */
export const group = (form: FormFields, name: string, options: readonly string[]): string[] =>
  options.filter((option) => checked(form, boxName(name, option)));

/** A textarea holding JSON, or undefined when empty. */
export function optionalJson(form: FormFields, name: string, what: string): unknown {
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
