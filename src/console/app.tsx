import { Hono } from "hono";
import { OAuthError } from "../errors";
import { randomBytes, toHex } from "../lib/bytes";
import { logError } from "../log";
import { consoleAdministratorRoutes } from "./administrators";
import { applicationRoutes } from "./applications";
import { consoleAuth, consoleSignInRoutes } from "./auth";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { eventRoutes } from "./events";
import { keyRoutes } from "./keys";
import { PAGES } from "./paths";
import { renderConsole } from "./render";
import { userRoutes } from "./users";
import { ConsoleErrorPage } from "./views/error";

/**
 * The admin console: a sub-app, mounted at /console by the app, over the
 * same admin services the JSON API calls (src/clients/administration.ts,
 * src/users/administration.ts, src/tokens/key-administration.ts). Its pages
 * are server-rendered and need no JavaScript; its errors are pages in its
 * own layout, never JSON, a stack or a token. Every request passes
 * `consoleAuth` first (src/console/auth.tsx): a session, and for a POST the
 * Origin check, the CSRF token and the role.
 */

/**
 * This surface's half of the one error mapping: a refusal is a page that
 * says what was refused; anything else is logged with an id, and the page
 * shows only the id.
 */
function consoleError(error: unknown, c: ConsoleContext): Response {
  const administrator = c.get("administrator");
  const csrfToken = c.get("csrfToken");
  if (error instanceof OAuthError && error.status < 500) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    const title =
      error.status === 404
        ? "Not found"
        : error.status === 403
          ? "Not allowed"
          : error.status === 401
            ? "Sign in"
            : "That did not work";
    return renderConsole(
      c,
      <ConsoleErrorPage
        title={title}
        description={error.description}
        administrator={administrator}
        csrfToken={csrfToken}
      />,
      error.status,
    );
  }
  const errorId = toHex(randomBytes(8));
  logError("unhandled_exception", error, { errorId, method: c.req.method, path: c.req.path });
  return renderConsole(
    c,
    <ConsoleErrorPage
      title="Something went wrong"
      description={`An unexpected error occurred (error id ${errorId}). Try again; if it persists, quote the id.`}
      administrator={administrator}
      csrfToken={csrfToken}
    />,
    500,
  );
}

/** The console as a sub-app; src/app.ts mounts it at the root (its paths are under CONSOLE). */
export function consoleApp(): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  // Hono's `/console/*` matches `/console` itself too: one registration, so it runs once.
  app.use(`${CONSOLE}/*`, consoleAuth);
  consoleSignInRoutes(app);
  consoleAdministratorRoutes(app);
  app.get(CONSOLE, (c) => c.redirect(PAGES.applications, 303));
  applicationRoutes(app);
  userRoutes(app);
  keyRoutes(app);
  eventRoutes(app);
  app.all(`${CONSOLE}/*`, () => {
    throw new OAuthError("not_found", "There is no console page at this address.");
  });
  app.onError(consoleError);
  return app;
}
