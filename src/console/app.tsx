import { Hono } from "hono";
import { OAuthError } from "../errors";
import { randomBytes, toHex } from "../lib/bytes";
import { logError } from "../log";
import { Layout } from "../ui/card-layout";
import { renderPage } from "../ui/render";
import { consoleAdministratorRoutes } from "./administrators";
import { consoleAuth, consoleSignInRoutes } from "./auth";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";

/**
 * The admin console (README, "The admin console"): a sub-app mounted at
 * /console with its own error mapping (a page, never JSON, never a stack),
 * behind `consoleAuth` (src/console/auth.tsx).
 */

function consoleError(error: unknown, c: ConsoleContext): Response {
  if (error instanceof OAuthError && error.status < 500) {
    return renderPage(
      c,
      <Layout title="The console cannot do that">
        <h1>The console cannot do that</h1>
        <p class="alert" role="alert">
          {error.description}
        </p>
        <p class="fine">
          <a href={CONSOLE}>Back to the console</a>
        </p>
      </Layout>,
      error.status,
    );
  }
  const errorId = toHex(randomBytes(8));
  logError("unhandled_exception", error, { errorId, path: c.req.path });
  return renderPage(
    c,
    <Layout title="Something went wrong">
      <h1>Something went wrong</h1>
      <p class="alert" role="alert">
        An unexpected error occurred (error id {errorId}). Please try again.
      </p>
    </Layout>,
    500,
  );
}

export function consoleApp(): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.use(`${CONSOLE}/*`, consoleAuth);
  app.use(CONSOLE, consoleAuth);
  consoleSignInRoutes(app);
  consoleAdministratorRoutes(app);
  app.get(CONSOLE, (c) => c.redirect(`${CONSOLE}/applications`, 303));
  app.onError(consoleError);
  return app;
}
