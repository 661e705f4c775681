import type { Context } from "hono";
import type { ProviderConfig } from "../config";
import type { Env } from "../env";

/** What every handler can read from the Hono context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    config: ProviderConfig;
  };
};

export type AppContext = Context<AppEnv>;

/** A path parameter of the matched route (the endpoint helper's handlers are not path-typed). */
export const pathParam = (c: AppContext, name: string): string => c.req.param(name) ?? "";
