import { waitUntil } from "cloudflare:workers";
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { allowsGrant } from "../clients/model";
import { noteClientUse } from "../clients/usage";
import { invalidTarget, OAuthError, unauthorizedClient } from "../errors";
import { GRANT_HANDLERS } from "../grants";
import type { AppEnv, StepContext, StepEnv } from "../http/context";
import { clientDpopRule, tokenEndpointProof, type WithDpop } from "../http/dpop";
import { endpoint } from "../http/endpoint";
import {
  clientCertificateRule,
  tokenEndpointCertificate,
  type WithCertificate,
} from "../http/mtls";
import { noStore } from "../http/no-store";
import {
  authenticateClient,
  parseForm,
  type WithClient,
  type WithGrant,
  type WithParams,
} from "../http/steps";
import { PATHS } from "../paths";

/** RFC 6749 §5.2: a grant_type we do not implement is refused before anyone is authenticated. */
const selectGrant = createMiddleware<StepEnv<WithParams & WithGrant>>(async (c, next) => {
  const handler = GRANT_HANDLERS.get(c.get("params").require("grant_type"));
  if (!handler) {
    throw new OAuthError(
      "unsupported_grant_type",
      "This grant_type is not supported (see grant_types_supported).",
    );
  }
  c.set("grant", handler);
  await next();
});

/** RFC 6749 §5.2 unauthorized_client: the client is not registered for this grant. */
const clientMayUseGrant = createMiddleware<StepEnv<WithClient & WithGrant>>(async (c, next) => {
  const { grantType } = c.get("grant");
  if (!allowsGrant(c.get("client"), grantType)) {
    throw unauthorizedClient(`This client is not registered for the ${grantType} grant.`);
  }
  await next();
});

/**
 * After the answer: a self-registered client that obtained a token is used,
 * and will not expire as unused (src/clients/usage.ts; off the hot path).
 */
const noteFirstUse = createMiddleware<StepEnv<WithClient>>(async (c, next) => {
  await next();
  if (c.res.status === 200) noteClientUse(c.env, c.get("client"), waitUntil);
});

/** The grant's own parameters (the required ones must be there), then its answer. */
async function grantResponse(
  c: StepContext<WithClient & WithGrant & WithDpop & WithCertificate>,
): Promise<Response> {
  const grant = c.get("grant");
  const params = c.get("params");
  // RFC 8707 §3: "using only a single resource parameter is encouraged ... an
  // authorization server may be unwilling or unable to fulfill a token request
  // with multiple resources". One resource per access token, so one per request.
  if (params.all("resource").length > 1) {
    throw invalidTarget("Name one resource per token request: each access token is for one.");
  }
  const values: Record<string, string> = {};
  for (const name of grant.parameters.required) values[name] = params.require(name);
  for (const name of grant.parameters.optional) {
    const value = params.get(name);
    if (value !== undefined) values[name] = value;
  }
  const dpop = c.get("dpop");
  const certificate = c.get("certificate");
  const answer = await grant.handle({
    env: c.env,
    config: c.get("config"),
    client: c.get("client"),
    params: values,
    ...(dpop ? { dpop } : {}),
    ...(certificate ? { certificate } : {}),
  });
  // RFC 9449 §8.2: a nonce of the grant's own replaces the server's (set by tokenEndpointProof).
  if (answer.dpopNonce !== undefined) c.header("DPoP-Nonce", answer.dpopNonce);
  return c.json(answer.body);
}

/** The token endpoint (RFC 6749 §3.2), as its ordered steps. */
export function tokenRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.token, {
    POST: [
      noStore,
      parseForm(),
      selectGrant,
      tokenEndpointProof(),
      tokenEndpointCertificate,
      authenticateClient("token"),
      clientMayUseGrant,
      clientDpopRule,
      clientCertificateRule,
      noteFirstUse,
      grantResponse,
    ],
  });
}
