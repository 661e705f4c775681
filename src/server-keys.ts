import { isDevelopment } from "./config";
import { OAuthError } from "./errors";
import { utf8 } from "./lib/bytes";

/**
 * Symmetric keys derived (HKDF-SHA-256) from the one SERVER_SECRET, each for
 * one purpose, so that no key is ever used for two things.
 */
export interface ServerKeys {
  /** HMAC over refresh tokens and authorization codes (src/tokens/family-token.ts). */
  tokenTag: CryptoKey;
  /** Signs the login-session cookie. */
  session: Uint8Array;
  /** HMAC for the CSRF tokens of the login and consent forms. */
  csrf: CryptoKey;
  /** AES-GCM key for client secrets that must be recoverable (client_secret_jwt). */
  clientSecret: CryptoKey;
  /** HMAC that names a username's object, so no typed name is ever an object's name. */
  usernameIndex: CryptoKey;
  /** HMAC that names the family of an RFC 8628 user code, so no typed code is ever an object's name. */
  userCodeIndex: CryptoKey;
  /** AES-GCM key that wraps the signing keys' private halves at rest. */
  signingKeyWrap: CryptoKey;
  /** HMAC that makes the DPoP nonces (src/dpop/nonce.ts). */
  dpopNonce: CryptoKey;
}

/** Known only to `wrangler dev`; a deployed worker refuses to start without its own. */
const DEVELOPMENT_SECRET = "development-only-server-secret:never-use-in-production";

const cache = new Map<string, Promise<ServerKeys>>();

export function serverKeys(env: Env): Promise<ServerKeys> {
  const secret = env.SERVER_SECRET || (isDevelopment(env) ? DEVELOPMENT_SECRET : undefined);
  if (!secret || secret.length < 32) {
    throw new OAuthError(
      "server_error",
      "The service is misconfigured (SERVER_SECRET must be set to at least 32 characters).",
    );
  }
  let keys = cache.get(secret);
  if (!keys) {
    keys = derive(secret);
    cache.set(secret, keys);
  }
  return keys;
}

async function derive(secret: string): Promise<ServerKeys> {
  const root = await crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveBits"]);
  const bits = async (info: string) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(0),
          info: utf8(`edge-token-service/${info}`),
        },
        root,
        256,
      ),
    );
  const hmac = async (info: string) =>
    crypto.subtle.importKey("raw", await bits(info), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
  const aesGcm = async (info: string) =>
    crypto.subtle.importKey("raw", await bits(info), "AES-GCM", false, ["encrypt", "decrypt"]);
  return {
    tokenTag: await hmac("family-token-tag"),
    session: await bits("login-session"),
    csrf: await hmac("csrf"),
    usernameIndex: await hmac("username-index"),
    userCodeIndex: await hmac("user-code-index"),
    signingKeyWrap: await aesGcm("signing-key-wrap"),
    clientSecret: await aesGcm("client-secret-encryption"),
    dpopNonce: await hmac("dpop-nonce"),
  };
}
