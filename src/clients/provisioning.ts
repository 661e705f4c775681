import { serverKeys } from "../server-keys";
import { certificateThumbprints } from "./certificates";
import type { ClientCredential, ClientRecord, SelfRegistration } from "./model";
import { generateClientSecret, hashClientSecret, sealClientSecret } from "./secrets";
import type { ClientDraft } from "./validation";

/**
 * Turns a validated client into the record the registry stores: its
 * credential, with a new secret when its method needs one. Shared by the
 * admin API and self-registration (RFC 7591), so both make clients the same
 * way. A secret is returned once, to be shown once, and stored only as a
 * hash (or sealed, for client_secret_jwt).
 */

/** The credential for a method, with a new secret when the method needs one. */
export async function credentialFor(
  env: Env,
  draft: ClientDraft,
  previous?: ClientCredential,
): Promise<{ credential: ClientCredential; secret?: string }> {
  if (draft.method === "none") return { credential: { method: "none" } };
  if (draft.method === "private_key_jwt")
    return { credential: { method: "private_key_jwt", jwks: draft.jwks } };
  if (draft.method === "tls_client_auth")
    return { credential: { method: "tls_client_auth", subjectDn: draft.subjectDn } };
  if (draft.method === "self_signed_tls_client_auth") {
    const thumbprints = await certificateThumbprints(draft.jwks);
    return { credential: { method: draft.method, jwks: draft.jwks, thumbprints } };
  }
  const method = draft.method;
  // Basic and post store the same hash, so switching between them keeps the secret.
  if (
    (method === "client_secret_basic" || method === "client_secret_post") &&
    previous &&
    "secretHash" in previous
  ) {
    return { credential: { method, secretHash: previous.secretHash } };
  }
  if (method === "client_secret_jwt" && previous?.method === "client_secret_jwt")
    return { credential: previous };
  return newSecretCredential(env, method);
}

export async function newSecretCredential(
  env: Env,
  method: "client_secret_basic" | "client_secret_post" | "client_secret_jwt",
): Promise<{ credential: ClientCredential; secret: string }> {
  const secret = generateClientSecret();
  if (method === "client_secret_jwt") {
    return {
      credential: {
        method,
        sealedSecret: await sealClientSecret(secret, (await serverKeys(env)).clientSecret),
      },
      secret,
    };
  }
  return { credential: { method, secretHash: await hashClientSecret(secret) }, secret };
}

/** The record of a validated client; a self-registered client keeps its registration for good. */
export function clientRecord(
  draft: ClientDraft,
  clientId: string,
  credential: ClientCredential,
  times: { createdAt: number; updatedAt: number },
  registration?: SelfRegistration,
): ClientRecord {
  const { method: _method, jwks: _jwks, subjectDn: _subjectDn, ...rest } = draft;
  return {
    client_id: clientId,
    ...rest,
    credential,
    ...(registration ? { registration } : {}),
    created_at: times.createdAt,
    updated_at: times.updatedAt,
  };
}
