import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { asObject, type JsonObject } from "../lib/json-fields";
import { nowSeconds } from "../lib/time";
import { serverKeys } from "../server-keys";
import type { ClientRecord, SelfRegistration } from "./model";
import { clientRecord, credentialFor } from "./provisioning";
import { clientInformation, validateRegistration } from "./registration";
import { readClient, saveClient } from "./registry";
import {
  clientSecretMatches,
  generateClientSecret,
  hashClientSecret,
  openClientSecret,
} from "./secrets";
import { clientView } from "./validation";

/**
 * RFC 7592: a client that registered itself (RFC 7591) reads, replaces and
 * deletes its own registration at its client configuration endpoint,
 * `/register/<client_id>`, authenticated by the registration access token
 * it got when it registered.
 *
 * The token is 256 random bits, shown once and stored as its SHA-256 (in
 * the record's `registration`), like a client secret. It is not rotated:
 * RFC 7592 §2.1 and §2.2 allow a new one in any response ("MAY be
 * different"), but KV offers no compare-and-swap, so a rotation could not
 * be made atomic, and two overlapping updates, or one whose answer is lost,
 * would leave the client holding a token that no longer works, with only an
 * administrator to turn to. Each response carries the token the request
 * presented (§3: registration_access_token is REQUIRED in it), which is the
 * current one. An administrator's client has no token and cannot manage
 * itself this way.
 */

/** A client that can manage itself: it registered through /register and holds a token. */
export type ManagedClient = ClientRecord & {
  registration: SelfRegistration & { via: "open" | "token"; accessTokenHash: string };
};

const isManaged = (client: ClientRecord | undefined): client is ManagedClient =>
  client?.registration?.accessTokenHash !== undefined &&
  client.registration.via !== "metadata_document";

/** A new registration access token, and what the record keeps of it. */
export async function newRegistrationAccessToken(): Promise<{ token: string; hash: string }> {
  const token = generateClientSecret();
  return { token, hash: await hashClientSecret(token) };
}

/** Compared against when a client has no token, so that every refusal costs the same. */
const NO_TOKEN_HASH = "0".repeat(64);

/**
 * The client the token is for, or undefined. RFC 7592 §2.1 to §2.3: an
 * invalid token is RFC 6750's error; "If the client does not exist on this
 * server, the server MUST respond with HTTP 401 Unauthorized". So a wrong
 * token, a token of another client, a client without a token and a client
 * that does not exist all look alike to the caller: a 401, the same
 * description, after the same hash comparison.
 */
export async function clientForRegistrationToken(
  env: Env,
  clientId: string,
  presented: string,
): Promise<ManagedClient | undefined> {
  // The admin read (KV now, not an isolate's copy): a deleted client or a new token counts at once.
  const client = await readClient(env, clientId);
  const stored = client?.registration?.accessTokenHash;
  const matches = await clientSecretMatches(presented, stored ?? NO_TOKEN_HASH);
  return matches && isManaged(client) ? client : undefined;
}

/**
 * RFC 7592 §3: the client information response, with the endpoint's URL and
 * the (unchanged) registration access token. No client_secret: only its
 * hash is kept (RFC 7591 §3.2.1 makes it OPTIONAL), except the new one an
 * update made.
 */
export function configurationResponse(
  client: ClientRecord,
  config: ProviderConfig,
  token: string,
  secret?: string,
): Record<string, unknown> {
  return {
    ...clientInformation(client, secret),
    registration_access_token: token,
    registration_client_uri: configurationUri(config, client.client_id),
  };
}

export const configurationUri = (config: ProviderConfig, clientId: string): string =>
  `${config.issuer}/register/${clientId}`;

/**
 * RFC 7592 §2.2 "the updated client metadata fields request MUST NOT include
 * the registration_access_token, registration_client_uri,
 * client_secret_expires_at, or client_id_issued_at fields".
 */
const NOT_IN_AN_UPDATE = [
  "registration_access_token",
  "registration_client_uri",
  "client_secret_expires_at",
  "client_id_issued_at",
] as const;

/**
 * The settings an administrator chose (RFC 7591 registration gives their
 * defaults): an update by the client keeps them, since they are not the
 * client's metadata to replace.
 */
function administratorSettings(client: ClientRecord, redirectUris: unknown): JsonObject {
  const view = clientView(client);
  // Silent consent was an administrator's trust in these redirect URIs: new ones must ask again.
  const sameRedirects =
    Array.isArray(redirectUris) &&
    redirectUris.length === view.redirect_uris.length &&
    redirectUris.every((uri, i) => uri === view.redirect_uris[i]);
  return {
    consent: sameRedirects ? view.consent : "required",
    grants_end_with_session: view.grants_end_with_session,
    resource_server: view.resource_server,
    refresh_token: view.refresh_token as JsonObject,
    resources: view.resources,
    ...(view.access_token_lifetime !== null
      ? { access_token_lifetime: view.access_token_lifetime }
      : {}),
  };
}

/**
 * RFC 7592 §2.2: the update replaces the client's metadata with the body,
 * read by RFC 7591 registration's own rules (`validateRegistration`, under
 * the mode the client registered by): "Valid values of client metadata
 * fields in this request MUST replace, not augment, the values previously
 * associated with this client. Omitted fields MUST be treated as null or
 * empty values", so an omitted field gets registration's default. Returns the
 * new record and a new secret when the client switched to a method that
 * needs one.
 */
export async function updateRegistration(
  env: Env,
  config: ProviderConfig,
  client: ManagedClient,
  body: unknown,
): Promise<{ client: ClientRecord; secret?: string }> {
  const { registration } = client;
  const input = { ...asObject(body) };
  // "The client MUST include its client_id field in the request, and it MUST
  // be the same as its currently issued client identifier."
  if (input.client_id !== client.client_id) {
    throw new OAuthError(
      "invalid_client_metadata",
      "client_id: must be included and be this client's client_id.",
    );
  }
  delete input.client_id;
  for (const name of NOT_IN_AN_UPDATE) {
    if (name in input)
      throw new OAuthError("invalid_client_metadata", `${name}: must not be sent in an update.`);
  }
  // "If the client includes the client_secret field in the request, the value
  // of this field MUST match the currently issued client secret for that
  // client. The client MUST NOT be allowed to overwrite its existing client
  // secret with its own chosen value."
  if ("client_secret" in input) {
    if (!(await isCurrentSecret(env, client, input.client_secret))) {
      throw new OAuthError(
        "invalid_client_metadata",
        "client_secret: does not match the current client secret; leave it out to keep it.",
      );
    }
    delete input.client_secret;
  }
  const { draft, registration: described } = validateRegistration(
    input,
    config,
    registration.via,
    administratorSettings(client, input.redirect_uris),
  );
  const { credential, secret } = await credentialFor(env, draft, client.credential);
  const updated = clientRecord(
    draft,
    client.client_id,
    credential,
    { createdAt: client.created_at, updatedAt: nowSeconds() },
    // The mode it came in by, and its token, stay; what it says about itself is replaced.
    { ...described, via: registration.via, accessTokenHash: registration.accessTokenHash },
  );
  await saveClient(env, updated);
  return { client: updated, ...(secret !== undefined ? { secret } : {}) };
}

async function isCurrentSecret(env: Env, client: ClientRecord, value: unknown): Promise<boolean> {
  if (typeof value !== "string") return false;
  const { credential } = client;
  if ("secretHash" in credential) return clientSecretMatches(value, credential.secretHash);
  if (credential.method === "client_secret_jwt") {
    const secret = await openClientSecret(
      credential.sealedSecret,
      (await serverKeys(env)).clientSecret,
    );
    if (secret === undefined) return false;
    return clientSecretMatches(value, await hashClientSecret(new TextDecoder().decode(secret)));
  }
  return false;
}
