import type { Hono } from "hono";
import { DEVELOPMENT_ADMIN_TOKEN } from "../administrators/admin-token";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { randomBytes, sha256, toBase64Url } from "../lib/bytes";
import { Layout } from "../ui/card-layout";
import { renderPage } from "../ui/render";
import { DEMO } from "./seed";

/**
 * Development only: a landing page for the demo clients' redirect URI that
 * shows the authorization response and the curl command that redeems it.
 */
export function devRoutes(app: Hono<AppEnv>): void {
  // The start page of `npm run dev`: the demo credentials, and a sign-in to try
  // (a fresh PKCE verifier each time, shown so the code can be redeemed).
  app.get("/", async (c, next) => {
    const config = c.get("config");
    if (!config.development) return next();
    const verifier = toBase64Url(randomBytes(32));
    const challenge = toBase64Url(await sha256(verifier));
    const authorize = new URL(`${config.issuer}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: "code",
      client_id: DEMO.confidential.clientId,
      redirect_uri: `${config.issuer}/dev/callback`,
      scope: "openid profile email offline_access",
      state: "demo",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }))
      authorize.searchParams.set(name, value);
    return renderPage(
      c,
      <Layout title="Edge Token Service (development)">
        <h1>Edge Token Service, running locally</h1>
        <p class="lead">Demo data exists only under npm run dev:</p>
        <ul class="links">
          <li>
            user <code>{DEMO.user.username}</code> / <code>{DEMO.user.password}</code>
          </li>
          <li>
            confidential client <code>{DEMO.confidential.clientId}</code> / secret{" "}
            <code>{DEMO.confidential.secret}</code>
          </li>
          <li>
            public client <code>{DEMO.public.clientId}</code> (PKCE, no secret)
          </li>
          <li>
            admin API token <code>{DEVELOPMENT_ADMIN_TOKEN}</code>
          </li>
          <li>
            <a href="/console">admin console</a>: administrator{" "}
            <code>{DEMO.administrator.username}</code> / <code>{DEMO.administrator.password}</code>,
            viewer <code>{DEMO.viewer.username}</code> / <code>{DEMO.viewer.password}</code>
          </li>
        </ul>
        <p>
          <a href={authorize.toString()}>Sign in as the demo user</a>, then redeem the code with
          this code_verifier:
        </p>
        <pre>
          <code>{verifier}</code>
        </pre>
        <p class="fine">
          Discovery:{" "}
          <a href="/.well-known/openid-configuration">/.well-known/openid-configuration</a>
        </p>
      </Layout>,
    );
  });
  endpoint(app, "/dev/callback", {
    GET: (c) => {
      const { code, state, error, error_description: description } = c.req.query();
      const issuer = c.get("config").issuer;
      const curl = code
        ? `curl -s -u ${DEMO.confidential.clientId}:${DEMO.confidential.secret} ${issuer}/token \\\n  -d grant_type=authorization_code -d code=${code} \\\n  -d redirect_uri=${issuer}/dev/callback -d code_verifier=YOUR_VERIFIER`
        : undefined;
      return renderPage(
        c,
        <Layout title="Authorization response">
          <h1>{error ? "The authorization failed" : "Authorization code received"}</h1>
          {error ? (
            <p class="alert" role="alert">
              {error}: {description}
            </p>
          ) : (
            <>
              <p class="lead">Redeem it within 60 seconds (it works once):</p>
              <pre>
                <code>{curl}</code>
              </pre>
            </>
          )}
          {state ? <p class="fine">state: {state}</p> : null}
        </Layout>,
      );
    },
  });
}
