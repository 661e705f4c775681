import { waitUntil } from "cloudflare:workers";
import type { MiddlewareHandler } from "hono";
import { recordSecurityEvents, storeSender } from "../events/recorder";
import { type RequestId, withRequestId } from "../log";
import type { AppEnv } from "./context";

/** The response header that tells the client its request's id, to quote in a support request. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Cloudflare's ray id (`cf-ray`, e.g. `8f1e2d3c4b5a6978-LHR`), which the edge
 * sets on every request and which Cloudflare's own logs and support use. Only
 * a value of its shape is taken: the id goes into every log line and a
 * response header, and outside Cloudflare (`npm run dev`) the header is
 * whatever the client sent.
 */
const RAY = /^[0-9A-Za-z-]{1,64}$/;

function requestIdOf(request: Request): RequestId {
  const ray = request.headers.get("cf-ray");
  return ray !== null && RAY.test(ray) ? ray : crypto.randomUUID();
}

/**
 * The first step of every request: its id (the `cf-ray`, else a fresh one)
 * for every log line written while it is handled, in the Worker and in the
 * Durable Objects it calls (src/log.ts), and in `X-Request-Id` on the
 * response, errors and 404s included (they are answered inside this step).
 * The same scope records the request's security events in the store
 * (src/events/recorder.ts), in one batch sent after the answer is made,
 * through `waitUntil`: the answer never waits for the store.
 */
export const requestId: MiddlewareHandler<AppEnv> = (c, next) => {
  const id = requestIdOf(c.req.raw);
  return withRequestId(id, () =>
    recordSecurityEvents(storeSender(c.env), waitUntil, async () => {
      await next();
      c.header(REQUEST_ID_HEADER, id);
    }),
  );
};
