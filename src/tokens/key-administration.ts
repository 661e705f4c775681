import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { adminAction } from "../log";
import type { SigningKeyState } from "./key-state";
import { revokeSigningKey, rotateSigningKey, signingKeyInventory } from "./keyring";

/**
 * What an administrator may do to the signing keys, whichever surface asks
 * (the admin JSON API, src/admin/keys.ts, and the console): list them with
 * their states, force a rotation now (old keys stay published while their
 * tokens live), or revoke one (out of the JWKS and of verification now).
 */

/** What a change leaves: the kid that signs access tokens now, and the published kids. */
export interface KeyChange {
  kid: string;
  published: string[];
}

const KID = /^[A-Za-z0-9_-]{1,64}$/;

export const listSigningKeys = signingKeyInventory;

export async function rotateSigningKeysNow(env: Env, config: ProviderConfig): Promise<KeyChange> {
  const ring = await rotateSigningKey(env, config);
  adminAction("signing_key.rotated", { kid: ring.kid });
  return { kid: ring.kid, published: ring.jwks.keys.map((k) => k.kid ?? "") };
}

export async function revokeSigningKeyNow(
  env: Env,
  config: ProviderConfig,
  kid: string,
): Promise<KeyChange> {
  const ring = KID.test(kid) ? await revokeSigningKey(env, config, kid) : undefined;
  if (!ring) throw new OAuthError("not_found", "There is no signing key with this kid.");
  adminAction("signing_key.revoked", { kid });
  return { kid: ring.kid, published: ring.jwks.keys.map((k) => k.kid ?? "") };
}

export type { SigningKeyState };
