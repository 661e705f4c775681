import type { Hono } from "hono";
import { Layout } from "../browser/pages/layout";
import { renderPage } from "../browser/pages/render";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { DEMO } from "./seed";

/**
 * Development only: a landing page for the demo clients' redirect URI that
 * shows the authorization response and the curl command that redeems it.
 */
export function devRoutes(app: Hono<AppEnv>): void {
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
