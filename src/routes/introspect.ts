import type { Hono } from "hono";
import { authenticateClient } from "../clients/authentication";
import type { ClientRecord } from "../clients/model";
import { familyPolicy, refreshPolicy } from "../clients/policy";
import { findClient } from "../clients/registry";
import { LIMITS, type ProviderConfig } from "../config";
import type { Env } from "../env";
import { expiryOf } from "../families/state";
import { familyStub } from "../families/stub";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readForm } from "../http/form";
import { noStore } from "../http/no-store";
import { accessTokenStatus } from "../tokens/access-token";
import { claimedKind, decodeFamilyToken, secretHash } from "../tokens/family-token";
import { serverKeys } from "../server-keys";
import { PATHS } from "./discovery";

const INACTIVE = { active: false } as const;

/** A client sees its own tokens; a resource server sees every token (RFC 7662 §4). */
const mayInspect = (caller: ClientRecord, tokenClientId: string) =>
  caller.resource_server || caller.client_id === tokenClientId;

/**
 * Token introspection (RFC 7662). An access token is verified here and looked
 * up in the KV revocation lists: no Durable Object call. A refresh token is
 * asked of its family, which is authoritative. Whatever is not live and
 * visible to the caller is `{"active": false}` and nothing more (§2.2).
 */
export function introspectRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.introspection, {
    POST: [
      noStore,
      async (c) => {
        const config = c.get("config");
        const params = await readForm(c.req.raw, LIMITS.maxFormBytes);
        const caller = await authenticateClient({
          env: c.env,
          config,
          request: c.req.raw,
          params,
          endpointUrl: `${config.issuer}${PATHS.introspection}`,
        });
        const token = params.require("token");
        const kind = claimedKind(token);
        const answer =
          kind === "refresh_token"
            ? await introspectRefreshToken(c.env, config, caller, token)
            : kind === undefined
              ? await introspectAccessToken(c.env, config, caller, token)
              : INACTIVE;
        return c.json(answer);
      },
    ],
  });
}

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
  if (claims.client_id !== caller.client_id && !(await findClient(env, claims.client_id)))
    return INACTIVE;
  return {
    active: true,
    scope: claims.scope.join(" "),
    client_id: claims.client_id,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
    token_type: "Bearer",
    iss: claims.iss,
    aud: claims.aud,
    jti: claims.jti,
    ...(claims.auth_time !== undefined ? { auth_time: claims.auth_time } : {}),
  };
}

async function introspectRefreshToken(
  env: Env,
  config: ProviderConfig,
  caller: ClientRecord,
  token: string,
) {
  const decoded = await decodeFamilyToken(token, "refresh_token", (await serverKeys(env)).tokenTag);
  const family = decoded && familyStub(env, decoded.familyId);
  if (!decoded || !family) return INACTIVE;
  const inspection = await family.inspect({
    generation: decoded.generation,
    hash: await secretHash(decoded.secret),
  });
  if (!inspection.active || !mayInspect(caller, inspection.grant.clientId)) return INACTIVE;
  const owner =
    inspection.grant.clientId === caller.client_id
      ? caller
      : await findClient(env, inspection.grant.clientId);
  if (!owner) return INACTIVE;
  const policy = refreshPolicy(owner, config);
  if (!policy.issue) return INACTIVE;
  const expiresAt = expiryOf(inspection.createdAt, inspection.lastUsedAt, familyPolicy(policy));
  if (Date.now() >= expiresAt) return INACTIVE;
  return {
    active: true,
    scope: inspection.grant.scope.join(" "),
    client_id: inspection.grant.clientId,
    sub: inspection.grant.sub,
    exp: Math.floor(expiresAt / 1000),
    iat: Math.floor(inspection.issuedAt / 1000),
    token_type: "refresh_token",
    iss: config.issuer,
  };
}
