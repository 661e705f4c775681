import type { Handler, Hono, MiddlewareHandler } from "hono";
import { OAuthError } from "../errors";
import type { AppEnv } from "./context";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Registers the handlers of one path and answers every other method with 405
 * and an `Allow` header, so "wrong method" is never mistaken for "no such
 * endpoint". HEAD follows GET (Hono does that for GET routes).
 */
export function endpoint(
  app: Hono<AppEnv>,
  path: string,
  handlers: Partial<
    Record<Method, Handler<AppEnv> | [...MiddlewareHandler<AppEnv>[], Handler<AppEnv>]>
  >,
): void {
  const methods = Object.keys(handlers) as Method[];
  for (const method of methods) {
    const chain = handlers[method];
    const list = Array.isArray(chain) ? chain : [chain as Handler<AppEnv>];
    app.on(method, path, ...(list as [Handler<AppEnv>]));
  }
  const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
  app.all(path, () => {
    // CORS preflights are answered by the cors middleware before this runs.
    // RFC 7009 §2.1 and friends: a request with the wrong method is an invalid_request.
    throw new OAuthError("invalid_request", `This endpoint accepts ${allow} only.`, {
      status: 405,
      headers: { Allow: allow },
    });
  });
}
