import type { Hono } from "hono";
import { clientRecord, credentialFor } from "../clients/provisioning";
import { clientInformation, validateRegistration } from "../clients/registration";
import { saveClient } from "../clients/registry";
import { OAuthError } from "../errors";
import type { AppContext, AppEnv } from "../http/context";
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
 */

const challenge = { "WWW-Authenticate": 'Bearer realm="registration"' };

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
  const presented = /^Bearer ([^\s]+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
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
  const now = nowSeconds();
  const client = clientRecord(
    draft,
    clientId,
    credential,
    { createdAt: now, updatedAt: now },
    registration,
  );
  await saveClient(c.env, client);
  audit("client.registered", { clientId, method: credential.method, via });
  return c.json(clientInformation(client, secret), 201);
};

export function registerRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.registration, {
    POST: [noStore, registrationOn, rateLimited, initialAccessToken, register],
  });
}
