import type { MiddlewareHandler } from "hono";

/** RFC 6749 §5.1: responses that carry tokens or credentials must not be cached. */
export const NO_STORE_HEADERS = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) c.res.headers.set(name, value);
};
