import type { Context, Hono, MiddlewareHandler } from "hono";
import { OAuthError } from "../errors";
import type { AppEnv } from "./context";
import { errorResponse } from "./error-response";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * One step of an endpoint. Steps declare the context variables they read and
 * set (StepEnv); the list is checked by running it, as Hono composes it.
 */
// biome-ignore lint/suspicious/noExplicitAny: each step types its own context (StepEnv).
type Step = MiddlewareHandler<any>;
// biome-ignore lint/suspicious/noExplicitAny: as above; the last step answers.
type Answer = (c: Context<any>) => Response | Promise<Response>;

/**
 * Registers one path as an ordered list of named steps per method, and
 * answers every other method with 405 and an `Allow` header, so "wrong
 * method" is never mistaken for "no such endpoint". HEAD follows GET (Hono
 * does that for GET routes).
 */
export function endpoint(
  app: Hono<AppEnv>,
  path: string,
  handlers: Partial<Record<Method, Answer | readonly [...Step[], Answer]>>,
): void {
  const methods = Object.keys(handlers) as Method[];
  for (const method of methods) {
    const chain = handlers[method] as Answer | readonly Step[];
    const steps = (typeof chain === "function" ? [chain] : chain) as [Step, ...Step[]];
    app.on(method, path, ...steps);
  }
  const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
  // RFC 7009 §2.1 and friends: a request with the wrong method is an
  // invalid_request. Answered here, as JSON on every surface: no page sends
  // it. (CORS preflights are answered by the cors middleware before this.)
  app.all(path, (c) =>
    errorResponse(
      new OAuthError("invalid_request", `This endpoint accepts ${allow} only.`, {
        status: 405,
        headers: { Allow: allow },
      }),
      c,
    ),
  );
}
