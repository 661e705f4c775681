import type { Context } from "hono";
import type { ProviderConfig } from "../config";

/** What every handler can read from the Hono context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    config: ProviderConfig;
  };
};

export type AppContext = Context<AppEnv>;

/**
 * The context of a step that runs after others: the variables those steps
 * set (`params`, `client`, …), typed. Each step names exactly what it reads.
 */
export type StepEnv<V extends object> = {
  Bindings: Env;
  Variables: { config: ProviderConfig } & V;
};

export type StepContext<V extends object> = Context<StepEnv<V>>;

/** A path parameter of the matched route (the endpoint helper's handlers are not path-typed). */
export const pathParam = (c: AppContext, name: string): string => c.req.param(name) ?? "";
