import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { allowsGrant, DEVICE_CODE_GRANT } from "../clients/model";
import { invalidTarget, unauthorizedClient } from "../errors";
import { startDeviceAuthorization } from "../families/device-gateway";
import type { AppEnv, StepContext, StepEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { noStore } from "../http/no-store";
import { authenticateClient, parseForm, type WithClient } from "../http/steps";
import { audit } from "../log";
import { PATHS } from "../paths";
import { requestedScope } from "../scope";
import { formatUserCode } from "../tokens/user-code";

/**
 * RFC 8628 §3.1, the device authorization endpoint: "The client initiates
 * the authorization flow by requesting a set of verification codes from the
 * authorization server by making an HTTP "POST" request to the device
 * authorization endpoint." "The client authentication requirements of
 * Section 3.2.1 of [RFC6749] apply to requests on this endpoint, which means
 * that confidential clients (those that have established client credentials)
 * authenticate in the same manner as when making requests to the token
 * endpoint, and public clients provide the "client_id" parameter to identify
 * themselves."
 */

/** RFC 6749 §5.2 unauthorized_client, as at the token endpoint: the client must hold the grant type. */
const clientMayUseDeviceGrant = createMiddleware<StepEnv<WithClient>>(async (c, next) => {
  if (!allowsGrant(c.get("client"), DEVICE_CODE_GRANT)) {
    throw unauthorizedClient(`This client is not registered for the ${DEVICE_CODE_GRANT} grant.`);
  }
  await next();
});

/**
 * RFC 8628 §3.2: "device_code REQUIRED ... user_code REQUIRED ...
 * verification_uri REQUIRED ... verification_uri_complete OPTIONAL ...
 * expires_in REQUIRED ... interval OPTIONAL. The minimum amount of time in
 * seconds that the client SHOULD wait between polling requests to the token
 * endpoint. If no value is provided, clients MUST use 5 as the default."
 */
async function deviceAuthorization(c: StepContext<WithClient>): Promise<Response> {
  const config = c.get("config");
  const client = c.get("client");
  const params = c.get("params");
  // RFC 8707 is not offered here yet: a resource would be silently dropped, so it is refused.
  if (params.has("resource")) {
    throw invalidTarget("The device flow does not take a resource parameter here.");
  }
  // §3.1 scope OPTIONAL: left out, what the code flow grants without one (the client's, but offline_access).
  const scope = requestedScope(
    params.get("scope"),
    client.scopes,
    client.scopes.filter((s) => s !== "offline_access"),
  );
  const started = await startDeviceAuthorization(c.env, {
    clientId: client.client_id,
    scope,
    lifetime: config.deviceCodeLifetime,
    interval: config.deviceCodeInterval,
  });
  audit("device.authorization_started", {
    familyId: started.familyId,
    clientId: client.client_id,
    scope: scope.join(" "),
  });
  const verificationUri = `${config.issuer}${PATHS.deviceVerification}`;
  const userCode = formatUserCode(started.userCode);
  return c.json({
    device_code: started.deviceCode,
    user_code: userCode,
    verification_uri: verificationUri,
    // §3.3.1: "designed for non-textual transmission" (a QR code); the page
    // still shows the code and asks the user to check it against the device.
    verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
    expires_in: config.deviceCodeLifetime,
    interval: config.deviceCodeInterval,
  });
}

export function deviceAuthorizationRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.deviceAuthorization, {
    POST: [
      noStore,
      parseForm(),
      authenticateClient("deviceAuthorization"),
      clientMayUseDeviceGrant,
      deviceAuthorization,
    ],
  });
}
