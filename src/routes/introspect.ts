import type { Hono } from "hono";
import { lookUpClient } from "../clients/lookup";
import type { ClientRecord } from "../clients/model";
import { refreshPolicy } from "../clients/policy";
import type { ProviderConfig } from "../config";
import { inspectRefreshToken } from "../families/gateway";
import type { AppEnv, StepContext } from "../http/context";
import { endpoint } from "../http/endpoint";
import { noStore } from "../http/no-store";
import { authenticateClient, parseForm, type WithClient } from "../http/steps";
import { PATHS } from "../paths";
import { accessTokenStatus } from "../tokens/access-token";
import { claimedKind } from "../tokens/family-token";

const INACTIVE = { active: false } as const;

/** A client sees its own tokens; a resource server sees every token (RFC 7662 §4). */
const mayInspect = (caller: ClientRecord, tokenClientId: string) =>
  caller.resource_server || caller.client_id === tokenClientId;

async function introspectAccessToken(
  env: Env,
  config: ProviderConfig,
  caller: ClientRecord,
  token: string,
) {
  const status = await accessTokenStatus(env, config, token);
  if (status.state !== "active") return INACTIVE;
  const { claims } = status;
  if (!mayInspect(caller, claims.client_id)) return INACTIVE;
  // A deleted client's tokens are reported inactive here (JWT-verifying
  // resource servers accept them until they expire; see README).
  if (
    claims.client_id !== caller.client_id &&
    !(await lookUpClient(env, config, claims.client_id).catch(() => undefined))
  )
    return INACTIVE;
  return {
    active: true,
    scope: claims.scope.join(" "),
    client_id: claims.client_id,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
    // RFC 9449 §6.2: a DPoP-bound token's introspection says so, with its
    // key's thumbprint; RFC 8705 §3.2: a certificate-bound one's `cnf` carries
    // the certificate's `x5t#S256` (its type stays Bearer).
    token_type: claims.cnf?.jkt ? "DPoP" : "Bearer",
    iss: claims.iss,
    aud: claims.aud,
    jti: claims.jti,
    ...(claims.auth_time !== undefined ? { auth_time: claims.auth_time } : {}),
    ...(claims.cnf ? { cnf: claims.cnf } : {}),
  };
}

/**
 * A refresh token's standing (live, current) is told only to the client it
 * was issued to: not to a resource server, which has no use for it, and never
 * to anyone else, since whether a copy is still current is exactly what a
 * thief needs to know to time a replay.
 */
async function introspectRefreshToken(
  env: Env,
  config: ProviderConfig,
  caller: ClientRecord,
  token: string,
) {
  const live = await inspectRefreshToken(env, token);
  if (!live || live.grant.clientId !== caller.client_id) return INACTIVE;
  const expiresAt = live.expiresAt(refreshPolicy(caller, config));
  if (Date.now() >= expiresAt) return INACTIVE;
  return {
    active: true,
    scope: live.grant.scope.join(" "),
    client_id: live.grant.clientId,
    sub: live.grant.sub,
    exp: Math.floor(expiresAt / 1000),
    iat: Math.floor(live.issuedAt / 1000),
    token_type: "refresh_token",
    iss: config.issuer,
  };
}

/**
 * Token introspection (RFC 7662). An access token is verified here and looked
 * up in the KV revocation lists: no Durable Object call. A refresh token is
 * asked of its family, which is authoritative. Whatever is not live and
 * visible to the caller is `{"active": false}` and nothing more (§2.2).
 */
async function introspect(c: StepContext<WithClient>): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("client");
  const token = c.get("params").require("token");
  const kind = claimedKind(token);
  const answer =
    kind === "refresh_token"
      ? await introspectRefreshToken(c.env, config, caller, token)
      : kind === undefined
        ? await introspectAccessToken(c.env, config, caller, token)
        : INACTIVE;
  return c.json(answer);
}

export function introspectRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.introspection, {
    POST: [noStore, parseForm(), authenticateClient("introspection"), introspect],
  });
}
