import type { ClientRecord } from "../clients/model";
import { accessTokenLifetime } from "../clients/policy";
import type { ProviderConfig } from "../config";
import { invalidRequest, invalidTarget } from "../errors";
import { nowSeconds } from "../lib/time";
import type { ResourceRecord } from "../resources/model";
import { findResource } from "../resources/registry";
import { scopeForAudience } from "../resources/scopes";
import type { Proven } from "./grant";
import type { TokenWindow } from "./response";

/**
 * The audience of an access token (RFC 8707 §2.2: "When the resource
 * parameter is used on an access token request made to the token endpoint,
 * for all grant types, it indicates the target service or protected resource
 * where the client intends to use the requested access token"), and what it
 * decides: the token's lifetime, and whether it must be sender-constrained.
 */

const unknownResource = () =>
  invalidTarget("The resource is not one registered here (RFC 8707 section 2).");

/**
 * RFC 8707 §2: the resource "MUST be an absolute URI"; here, one of the
 * registered resources, compared exactly. A resource whose tokens must be
 * sender-constrained is refused without a DPoP proof or a TLS client
 * certificate before anything else happens: invalid_request, not
 * invalid_target, because the resource itself is known and allowed; the
 * request lacks what it requires (as a client registered for bound tokens
 * is answered without one).
 */
export async function registeredResource(
  env: Env,
  identifier: string,
  proven: Proven,
): Promise<ResourceRecord> {
  const resource = await findResource(env, identifier);
  if (!resource) throw unknownResource();
  requireBinding(resource, proven);
  return resource;
}

function requireBinding(resource: ResourceRecord, proven: Proven): void {
  if (resource.require_sender_constrained && proven.jkt === undefined && proven.x5t === undefined) {
    throw invalidRequest(
      "Tokens for this resource must be sender-constrained: send a DPoP proof or use mutual TLS.",
    );
  }
}

/** A resource's own lifetime wins over the client's, which wins over the provider's. */
export function windowFor(
  client: ClientRecord,
  config: ProviderConfig,
  resource?: ResourceRecord,
): TokenWindow {
  const iat = nowSeconds();
  const lifetime = resource?.access_token_lifetime ?? accessTokenLifetime(client, config);
  return { iat, exp: iat + lifetime };
}

export interface Target {
  audience: string;
  window: TokenWindow;
  /** The registered resource the token is for; absent for the default audience. */
  resource?: ResourceRecord;
}

/**
 * The audience once the family has answered. A named resource was checked
 * before the call and its window fixed; a resource the family chose (the
 * grant's only one, RFC 8707 §2.1's "predefined default resource value") is
 * read now. The family recorded the window it was given as the latest `exp`
 * of the grant's tokens, so a resource lifetime longer than that is cut to it;
 * a resource deleted since, or now requiring a proof the request lacks, is
 * refused (the family checked the requirement as it was when the grant was
 * made).
 */
export async function targetAfter(
  env: Env,
  config: ProviderConfig,
  chosen: string | undefined,
  window: TokenWindow,
  proven: Proven,
  named: ResourceRecord | undefined,
): Promise<Target> {
  if (named) return { audience: named.identifier, window, resource: named };
  if (chosen === undefined) return { audience: config.defaultAudience, window };
  const resource = await findResource(env, chosen);
  if (!resource) throw unknownResource();
  requireBinding(resource, proven);
  const lifetime = resource.access_token_lifetime;
  const exp = lifetime === undefined ? window.exp : Math.min(window.exp, window.iat + lifetime);
  return { audience: resource.identifier, window: { iat: window.iat, exp }, resource };
}

/**
 * The scope of a token for `resource` (or the default audience), downscoped
 * (RFC 8707 §2.2) against the other resources in `among`: the grant's, or a
 * client_credentials client's. A resource deleted since defines nothing.
 */
export async function downscoped(
  env: Env,
  scope: readonly string[],
  resource: ResourceRecord | undefined,
  among: readonly string[],
): Promise<string[]> {
  const others = among.filter((identifier) => identifier !== resource?.identifier);
  if (others.length === 0) return [...scope];
  const records = await Promise.all(others.map((identifier) => findResource(env, identifier)));
  return scopeForAudience(scope, resource, records);
}

/**
 * client_credentials: no user consents, so the client's registration says
 * which resources it may have tokens for (its `resources`); none: only the
 * default audience.
 */
export async function clientResource(
  env: Env,
  client: ClientRecord,
  identifier: string,
  proven: Proven,
): Promise<ResourceRecord> {
  const resource = await findResource(env, identifier);
  if (!resource) throw unknownResource();
  if (!(client.resources ?? []).includes(resource.identifier)) {
    throw invalidTarget("This client is not registered for this resource (see its resources).");
  }
  requireBinding(resource, proven);
  return resource;
}
