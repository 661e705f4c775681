import { invalidScope } from "./errors";

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-separated. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The tokens of a scope string, de-duplicated, or undefined when the syntax is wrong. */
export function parseScope(text: string): string[] | undefined {
  const tokens = text.split(" ").filter((t) => t !== "");
  if (!tokens.every((t) => SCOPE_TOKEN.test(t) && t.length <= 128) || tokens.length > 50)
    return undefined;
  return [...new Set(tokens)];
}

export const formatScope = (scopes: readonly string[]): string => scopes.join(" ");

/**
 * The scope of a request: its `scope` parameter checked against what may be
 * granted, or `fallback` when it is left out.
 */
export function requestedScope(
  param: string | undefined,
  allowed: readonly string[],
  fallback: readonly string[],
): string[] {
  if (param === undefined) return [...fallback];
  const scopes = parseScope(param);
  if (!scopes || scopes.length === 0) throw invalidScope("The scope parameter is malformed.");
  // Which values were refused is not echoed: a description never repeats a
  // request value (a mistaken client may put a token anywhere).
  if (scopes.some((s) => !allowed.includes(s))) {
    throw invalidScope("The requested scope exceeds what may be granted here.");
  }
  return scopes;
}
