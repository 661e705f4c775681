import type { Hono } from "hono";
import {
  clientForRegistrationToken,
  configurationResponse,
  type ManagedClient,
  newRegistrationAccessToken,
  updateRegistration,
} from "../clients/configuration";
import { clientRecord, credentialFor } from "../clients/provisioning";
import { validateRegistration } from "../clients/registration";
import { deleteClient, saveClient } from "../clients/registry";
import { OAuthError } from "../errors";
import type { AppContext, AppEnv, StepContext } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";
import { noStore } from "../http/no-store";
import { registrationAllowed, tooManyRegistrations } from "../http/rate-limits";
import { randomBytes, sha256, timingSafeEqual, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit, securityEvent } from "../log";
import { PATHS } from "../paths";

/**
 * POST /register: OAuth 2.0 Dynamic Client Registration (RFC 7591 §3), as
 * the REGISTRATION var allows (README, "Clients that register themselves"):
 *
 *   registrationOn → rateLimited → initialAccessToken → register
 *
 * Nothing is written before the last step, and nothing there is shared with
 * another client: a registration only ever creates a new client id.
 *
 * /register/<client_id>: the client configuration endpoint (RFC 7592), where
 * the client reads (GET), replaces (PUT) or deletes (DELETE) its registration:
 *
 *   registrationOn → rateLimited → registrationAccessToken → read | update | remove
 */

const challenge = { "WWW-Authenticate": 'Bearer realm="registration"' };

/** RFC 6750 §2.1: the bearer token of the Authorization header, if there is one. */
const bearerToken = (authorization: string | undefined): string | undefined =>
  /^Bearer ([^\s]+)$/i.exec(authorization ?? "")?.[1];

/** REGISTRATION=off: the endpoint does not exist (and discovery does not name it). */
const registrationOn = async (c: AppContext, next: () => Promise<void>) => {
  if (c.get("config").registration === "off")
    throw new OAuthError("not_found", "There is no endpoint at this path.");
  await next();
};

/** Every attempt counts against its address (REGISTRATION_LIMITER), before anything else. */
const rateLimited = async (c: AppContext, next: () => Promise<void>) => {
  if (!(await registrationAllowed(c))) throw tooManyRegistrations();
  await next();
};

/**
 * REGISTRATION=token. RFC 7591 §3: "the client uses the initial access token
 * as an OAuth 2.0 Bearer token" (RFC 6750 §2.1 header); a missing or wrong
 * one is RFC 6750 §3.1's invalid_token, compared in constant time.
 */
const initialAccessToken = async (c: AppContext, next: () => Promise<void>) => {
  if (c.get("config").registration !== "token") return next();
  const presented = bearerToken(c.req.header("authorization"));
  if (!presented) {
    throw new OAuthError(
      "invalid_token",
      "Registration needs an initial access token (Authorization: Bearer).",
      { headers: challenge },
    );
  }
  const expected = c.env.REGISTRATION_TOKEN ?? "";
  if (!timingSafeEqual(await sha256(presented), await sha256(expected))) {
    // No field: the only thing known about the caller is its address, which audit lines never carry.
    securityEvent("registration.auth_failed", {});
    throw new OAuthError("invalid_token", "The initial access token is not valid.", {
      headers: { "WWW-Authenticate": `${challenge["WWW-Authenticate"]}, error="invalid_token"` },
    });
  }
  await next();
};

/** RFC 7591 §3.2.1: 201 with the client information response. */
const register = async (c: AppContext) => {
  const config = c.get("config");
  const via = config.registration === "token" ? "token" : "open";
  const { draft, registration } = validateRegistration(await readJson(c.req.raw), config, via);
  const clientId = toBase64Url(randomBytes(16));
  const { credential, secret } = await credentialFor(c.env, draft);
  // RFC 7592 §3: the token for the client configuration endpoint, shown this once.
  const access = await newRegistrationAccessToken();
  const now = nowSeconds();
  const client = clientRecord(
    draft,
    clientId,
    credential,
    { createdAt: now, updatedAt: now },
    { ...registration, accessTokenHash: access.hash },
  );
  await saveClient(c.env, client);
  audit("client.registered", { clientId, method: credential.method, via });
  return c.json(configurationResponse(client, config, access.token, secret), 201);
};

/** What the client configuration endpoint's last steps read: the client, and the token it presented. */
type WithManaged = { managed: { client: ManagedClient; token: string } };

const invalidRegistrationToken = () =>
  new OAuthError("invalid_token", "The registration access token is not valid for this client.", {
    headers: { "WWW-Authenticate": `${challenge["WWW-Authenticate"]}, error="invalid_token"` },
  });

/**
 * RFC 7592 §1.1: "the client uses its registration access token in all calls
 * to this endpoint as an OAuth 2.0 Bearer token". §2.1 to §2.3: an invalid
 * token is RFC 6750's invalid_token, and "If the client does not exist on
 * this server, the server MUST respond with HTTP 401 Unauthorized": a client
 * id that is unknown, or another client's, or an administrator's client
 * (which has no token), gets exactly the answer of a wrong token, so the
 * endpoint tells nobody which clients exist.
 */
const registrationAccessToken = async (c: StepContext<WithManaged>, next: () => Promise<void>) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) {
    throw new OAuthError(
      "invalid_token",
      "The client configuration endpoint needs the registration access token (Authorization: Bearer).",
      { headers: challenge },
    );
  }
  const clientId = c.req.param("client_id") ?? "";
  const client = await clientForRegistrationToken(c.env, clientId, token);
  if (!client) throw invalidRegistrationToken();
  c.set("managed", { client, token });
  await next();
};

/** RFC 7592 §2.1: 200 with the client information response (§3). */
const read = (c: StepContext<WithManaged>) => {
  const { client, token } = c.get("managed");
  return c.json(configurationResponse(client, c.get("config"), token));
};

/** RFC 7592 §2.2: the body replaces the metadata; 200 with the client as it is now. */
const update = async (c: StepContext<WithManaged>) => {
  const { client, token } = c.get("managed");
  const config = c.get("config");
  const updated = await updateRegistration(c.env, config, client, await readJson(c.req.raw));
  audit("client.registration_updated", {
    clientId: client.client_id,
    method: updated.client.credential.method,
  });
  return c.json(configurationResponse(updated.client, config, token, updated.secret));
};

/**
 * RFC 7592 §2.3: 204; "A successful delete action will invalidate the
 * client_id, client_secret, and registration_access_token for this client".
 * Its grants end as an administrator's delete ends them: no refresh of a
 * deleted client succeeds, and its access tokens live out their lifetime.
 */
const remove = async (c: StepContext<WithManaged>) => {
  const { client } = c.get("managed");
  await deleteClient(c.env, client.client_id);
  audit("client.registration_deleted", { clientId: client.client_id });
  return c.body(null, 204);
};

export function registerRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.registration, {
    POST: [noStore, registrationOn, rateLimited, initialAccessToken, register],
  });
  const steps = [noStore, registrationOn, rateLimited, registrationAccessToken] as const;
  endpoint(app, `${PATHS.registration}/:client_id`, {
    GET: [...steps, read],
    PUT: [...steps, update],
    DELETE: [...steps, remove],
  });
}
