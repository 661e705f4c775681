import type { MiddlewareHandler } from "hono";
import { LIMITS, providerConfig } from "../config";
import { invalidRequest } from "../errors";
import type { AppEnv } from "./context";

/** Refuses oversized headers before any work is done for the request. */
export const headerLimits: MiddlewareHandler<AppEnv> = async (c, next) => {
  let total = 0;
  for (const [name, value] of c.req.raw.headers) {
    const size = name.length + value.length;
    if (size > LIMITS.maxHeaderBytes)
      throw invalidRequest(`A request header is larger than ${LIMITS.maxHeaderBytes} bytes.`);
    total += size;
  }
  if (total > LIMITS.maxTotalHeaderBytes) {
    throw invalidRequest(
      `The request headers are larger than ${LIMITS.maxTotalHeaderBytes} bytes.`,
    );
  }
  await next();
};

export const withConfig: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("config", providerConfig(c.env, c.req.url));
  await next();
};
