import type { Context } from "hono";
import type { Administrator } from "../administrators/model";
import type { ProviderConfig } from "../config";
import type { Params } from "../params";

/**
 * What every console handler can read: the signed-in administrator, the
 * session's CSRF token (every POST form carries it as `_csrf`), and, for a
 * POST, its form, read and checked once by `consoleAuth` (src/console/auth.tsx).
 */
export type ConsoleEnv = {
  Bindings: Env;
  Variables: {
    config: ProviderConfig;
    administrator: Administrator;
    csrfToken: string;
    form: Params;
  };
};

export type ConsoleContext = Context<ConsoleEnv>;

/** Where the console lives; every page and form is under it. */
export const CONSOLE = "/console";
