import { Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { adminAdministratorRoutes } from "./admin/administrators";
import { requireAdmin } from "./admin/auth";
import { adminClientRoutes } from "./admin/clients";
import { adminEventRoutes } from "./admin/events";
import { adminKeyRoutes } from "./admin/keys";
import { adminResourceRoutes } from "./admin/resources";
import { adminUserRoutes } from "./admin/users";
import { browserApp } from "./browser/routes";
import { consoleApp } from "./console/app";
import { devRoutes } from "./dev/routes";
import { ensureDevSeed } from "./dev/seed";
import { OAuthError } from "./errors";
import type { AppEnv } from "./http/context";
import { errorResponse } from "./http/error-response";
import { headerLimits, mtlsAliasScope, withConfig } from "./http/guards";
import { noStore } from "./http/no-store";
import { REQUEST_ID_HEADER, requestId } from "./http/request-id";
import { PATHS } from "./paths";
import { deviceAuthorizationRoutes } from "./routes/device-authorization";
import { discoveryRoutes } from "./routes/discovery";
import { introspectRoutes } from "./routes/introspect";
import { jwksRoutes } from "./routes/jwks";
import { registerRoutes } from "./routes/register";
import { revokeRoutes } from "./routes/revoke";
import { tokenRoutes } from "./routes/token";
import { userinfoRoutes } from "./routes/userinfo";

const notFound = () => new OAuthError("not_found", "There is no endpoint at this path.");

/** The Hono app: shared middleware, every route, and the one error mapping. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // First, so that every log line of the request carries its id, whatever
  // step writes it (src/http/request-id.ts).
  app.use(requestId);
  // Security headers on every response (hono's secure-headers): nosniff on
  // JSON too, HSTS, never framed, no referrer. Cross-origin reads stay allowed
  // (CORP off): browser apps of other origins call the token endpoints.
  app.use(
    secureHeaders({
      xFrameOptions: "DENY",
      crossOriginResourcePolicy: false,
      // Popup sign-in (oidc-client-ts, MSAL) needs window.opener on our pages.
      crossOriginOpenerPolicy: false,
      strictTransportSecurity: "max-age=31536000; includeSubDomains",
    }),
  );
  app.use(headerLimits);
  app.use(withConfig);
  app.use(mtlsAliasScope);
  app.use(async (c, next) => {
    const config = c.get("config");
    if (config.development) await ensureDevSeed(c.env, config.issuer, config.scopes);
    await next();
  });
  // Browser apps (public clients) call these directly; none of them uses cookies.
  const browserCors = cors({
    origin: "*",
    // Every CORS-enabled endpoint is read with GET or POST; nothing else is offered.
    allowMethods: ["GET", "POST"],
    // RFC 9449: browser apps send a DPoP proof, and read the next nonce and
    // the resource's DPoP challenge; and they may show the request id to
    // their user, to quote.
    allowHeaders: ["Authorization", "Content-Type", "DPoP"],
    exposeHeaders: ["DPoP-Nonce", "WWW-Authenticate", REQUEST_ID_HEADER],
    maxAge: 600,
  });
  // Public metadata carries the header always, so that a copy in a shared
  // cache works for browsers too.
  for (const path of ["/.well-known/*", PATHS.jwks]) app.use(path, browserCors);
  // Token responses are never cached; only a browser's request (it always
  // sends Origin) needs the headers, and servers' requests skip the work.
  for (const path of [PATHS.token, PATHS.revocation, PATHS.userinfo, PATHS.registration]) {
    app.use(path, (c, next) =>
      c.req.header("origin") === undefined ? next() : browserCors(c, next),
    );
  }
  app.use("/admin/*", noStore, requireAdmin);
  app.use("/dev/*", async (c, next) => {
    if (!c.get("config").development) throw notFound();
    await next();
  });

  // First: under `npm run dev` its start page stands in front of the deployed one.
  devRoutes(app);
  discoveryRoutes(app);
  jwksRoutes(app);
  app.route("/", browserApp());
  app.route("/", consoleApp());
  tokenRoutes(app);
  deviceAuthorizationRoutes(app);
  revokeRoutes(app);
  introspectRoutes(app);
  userinfoRoutes(app);
  registerRoutes(app);
  adminClientRoutes(app);
  adminUserRoutes(app);
  adminKeyRoutes(app);
  adminResourceRoutes(app);
  adminEventRoutes(app);
  adminAdministratorRoutes(app);

  app.notFound((c) => errorResponse(notFound(), c));
  app.onError(errorResponse);
  return app;
}
