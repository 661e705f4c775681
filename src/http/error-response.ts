import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { OAuthError } from "../errors";
import { randomBytes, toHex } from "../lib/bytes";
import { logError } from "../log";
import { NO_STORE_HEADERS } from "./no-store";

/**
 * The one place where an error becomes a response (`app.onError`).
 *
 * - OAuthError: its status, `{error, error_description}`, its headers.
 * - Anything else is a bug or an outage: logged as structured JSON (with the
 *   message redacted) and answered with a bare 500 carrying an id to quote,
 *   never a stack trace or a request value.
 *
 * The browser surface (/authorize, login, consent) is a sub-app with its own
 * mapping to pages and redirects (src/browser/routes.tsx); 405s are JSON on
 * every surface (src/http/endpoint.ts).
 */
export function errorResponse(error: unknown, c: Context): Response {
  const oauth = toOAuthError(error, c);
  const headers = new Headers({
    "Content-Type": "application/json",
    ...NO_STORE_HEADERS,
    ...oauth.headers,
  });
  return new Response(JSON.stringify(oauth.toJSON()), { status: oauth.status, headers });
}

function toOAuthError(error: unknown, c: Context): OAuthError {
  if (error instanceof OAuthError) {
    if (error.status >= 500) logError("server_error", error, { path: c.req.path });
    return error;
  }
  if (error instanceof HTTPException && error.status < 500) {
    return new OAuthError("invalid_request", "The request could not be read.", {
      status: error.status,
    });
  }
  const errorId = toHex(randomBytes(8));
  logError("unhandled_exception", error, { errorId, method: c.req.method, path: c.req.path });
  return new OAuthError("server_error", `An unexpected error occurred (error id ${errorId}).`);
}
