import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { NO_STORE_HEADERS } from "../http/no-store";

/** Headers for every page: never cached, never framed (clickjacking), no referrer leak. */
export const PAGE_HEADERS: Record<string, string> = {
  ...NO_STORE_HEADERS,
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

export function renderPage(c: Context, page: JSX.Element, status = 200): Response {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
  return c.html(`<!doctype html>${page}`, status as 200);
}
