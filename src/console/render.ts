import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { NO_STORE_HEADERS } from "../http/no-store";

/**
 * Headers of every console page: never cached (pages show secrets once, and
 * accounts), never framed (clickjacking), no referrer, no script but the
 * ones a page names by hash, and forms that post only to this origin.
 */
function pageHeaders(scriptHashes: readonly string[]): Record<string, string> {
  const scripts = scriptHashes.map((hash) => `'sha256-${hash}'`).join(" ");
  return {
    ...NO_STORE_HEADERS,
    "Content-Security-Policy": [
      "default-src 'none'",
      "style-src 'unsafe-inline'",
      `script-src ${scripts || "'none'"}`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

export function renderConsole(
  c: Context,
  page: JSX.Element,
  status = 200,
  scriptHashes: readonly string[] = [],
): Response {
  for (const [name, value] of Object.entries(pageHeaders(scriptHashes))) c.header(name, value);
  return c.html(`<!doctype html>${page}`, status as 200);
}

/**
 * A list page's query as the listing (the admin API's) is asked: without the
 * console's own `done` (the notice after a change), and without the search
 * and filter fields the operator left empty (a form sends them all).
 */
export function listingQuery(c: Context): Record<string, string[]> {
  const { done: _notice, ...query } = c.req.queries();
  return Object.fromEntries(
    Object.entries(query)
      .map(([name, values]) => [name, values.filter((value) => value !== "")] as const)
      .filter(([, values]) => values.length > 0),
  );
}

/** After a change: 303 to the page that shows it, with what was done, so a reload repeats nothing. */
export function doneRedirect(c: Context, path: string, done: string): Response {
  const url = `${path}${path.includes("?") ? "&" : "?"}done=${encodeURIComponent(done)}`;
  c.header("Cache-Control", "no-store");
  return c.redirect(url, 303);
}

const hashes = new Map<string, Promise<string>>();

/** The CSP hash of an inline script (base64 SHA-256 of its exact text), computed once per isolate. */
export function scriptHash(script: string): Promise<string> {
  let hash = hashes.get(script);
  if (!hash) {
    hash = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(script))
      .then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))));
    hashes.set(script, hash);
  }
  return hash;
}
