import type { Context } from "hono";
import type { ProviderConfig } from "../config";

/**
 * What every console handler can read from the Hono context: the provider
 * configuration (set by the app for every request), and what the console's
 * sign-in layer (consoleAuth) sets once it has let the request in: the
 * signed-in administrator and the session's CSRF token, which every POST
 * form carries as `_csrf`.
 */
export interface Administrator {
  username: string;
  /** "admin" may change things; "viewer" may only look (consoleAuth refuses a viewer's POST). */
  role: "admin" | "viewer";
}

export type ConsoleEnv = {
  Bindings: Env;
  Variables: {
    config: ProviderConfig;
    administrator: Administrator;
    csrfToken: string;
  };
};

export type ConsoleContext = Context<ConsoleEnv>;

/**
 * Whether to show the forms and buttons that change something. Only a
 * courtesy: consoleAuth refuses every POST of a viewer, whatever a page
 * shows.
 */
export const mayChange = (c: ConsoleContext): boolean => c.get("administrator").role === "admin";
