import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { nowSeconds } from "../lib/time";
import type { ClientCertificate } from "../mtls/certificate";
import { sameDistinguishedName } from "../mtls/distinguished-name";
import type { ClientEndpoint } from "../paths";
import { serverKeys } from "../server-keys";
import { lookUpClient } from "./lookup";
import { isClientIdUrl } from "./metadata-document";
import { AUTH_METHODS, type AuthMethod, type ClientRecord } from "./model";
import { clientSecretMatches, openClientSecret } from "./secrets";

/**
 * Client authentication for the token, revocation and introspection
 * endpoints (RFC 6749 §2.3, RFC 7523 §2.2, OIDC Core §9, RFC 8705 §2). One
 * request, one method, and it must be the method the client registered.
 */

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Ed25519 is accepted as the fully specified name of EdDSA (RFC 9864), and advertised as EdDSA. */
const PRIVATE_KEY_ALGS = ["ES256", "ES384", "PS256", "RS256", "EdDSA", "Ed25519"];
const advertisedAlgs = (algs: readonly string[]) => algs.filter((a) => a !== "Ed25519");
const SECRET_ALGS = ["HS256", "HS384", "HS512"];
/** Assertions may live at most this long, which bounds the replay store. */
const MAX_ASSERTION_LIFETIME = 3600;
const CLOCK_SKEW = 30;

/** What discovery advertises for the token and revocation endpoints (RFC 8414 §2). */
export const CLIENT_AUTH_METHODS: readonly AuthMethod[] = AUTH_METHODS;

/**
 * RFC 7662 §2.1: "To prevent token scanning attacks, the endpoint MUST also
 * require some form of authorization to access this endpoint". A public
 * client's client_id is no credential: it may not introspect.
 */
export const INTROSPECTION_AUTH_METHODS: readonly AuthMethod[] = AUTH_METHODS.filter(
  (m) => m !== "none",
);
export const CLIENT_AUTH_SIGNING_ALGS: readonly string[] = [
  ...advertisedAlgs(PRIVATE_KEY_ALGS),
  ...SECRET_ALGS,
];

/**
 * The credentials a request presents, by how it presents them. A JWT
 * assertion serves two registered methods (client_secret_jwt and
 * private_key_jwt): the client's registration decides which.
 */
type Presented =
  | { method: "client_secret_basic"; clientId: string; secret: string; viaHeader: true }
  | { method: "client_secret_post"; clientId: string; secret: string; viaHeader: false }
  | { method: "jwt"; clientId: string; assertion: string; viaHeader: false }
  | { method: "none"; clientId: string; viaHeader: false };

/** The parameters client authentication reads (a narrow view of the request's form). */
export interface CredentialParams {
  get(name: string): string | undefined;
  has(name: string): boolean;
}

function failure(description: string, viaHeader: boolean): OAuthError {
  // RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a matching challenge.
  return new OAuthError("invalid_client", description, {
    status: 401,
    headers: viaHeader
      ? { "WWW-Authenticate": 'Basic realm="edge-token-service", charset="UTF-8"' }
      : {},
  });
}

const BASIC = /^Basic ([A-Za-z0-9+/]+={0,2})$/i;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** RFC 6749 §2.3.1: both halves are form-urlencoded before base64. */
function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = BASIC.exec(header.trim());
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    const binary = atob(match[1]);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    decoded = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  try {
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    return { clientId: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function presentedCredentials(request: Request, params: CredentialParams): Presented {
  const header = request.headers.get("authorization");
  const basicTried = header !== null && /^basic\b/i.test(header.trim());
  const usesAssertion = params.has("client_assertion") || params.has("client_assertion_type");
  const usesPostSecret = params.has("client_secret");
  const count = [basicTried, usesAssertion, usesPostSecret].filter(Boolean).length;
  if (count > 1)
    throw failure("The request uses more than one client authentication method.", basicTried);

  if (basicTried) {
    const basic = parseBasic(header as string);
    if (!basic) throw failure("The Basic authorization header is malformed.", true);
    const bodyId = params.get("client_id");
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw failure("The client_id parameter does not match the authenticated client.", true);
    }
    return {
      method: "client_secret_basic",
      clientId: basic.clientId,
      secret: basic.secret,
      viaHeader: true,
    };
  }
  if (usesAssertion) {
    if (params.get("client_assertion_type") !== JWT_BEARER_ASSERTION) {
      throw failure(`client_assertion_type must be ${JWT_BEARER_ASSERTION}.`, false);
    }
    const assertion = params.get("client_assertion");
    if (!assertion) throw failure("The client_assertion parameter is missing.", false);
    const clientId = assertionIssuer(assertion);
    const bodyId = params.get("client_id");
    if (bodyId !== undefined && bodyId !== clientId) {
      throw failure("The client_id parameter does not match the client assertion.", false);
    }
    return { method: "jwt", clientId, assertion, viaHeader: false };
  }
  const clientId = params.get("client_id");
  if (!clientId) throw failure("Client authentication is required.", false);
  const secret = params.get("client_secret");
  if (usesPostSecret && secret !== undefined) {
    return { method: "client_secret_post", clientId, secret, viaHeader: false };
  }
  return { method: "none", clientId, viaHeader: false };
}

function assertionIssuer(assertion: string): string {
  if (assertion.length > 8192 || assertion.split(".").length !== 3) {
    throw failure("The client assertion is not a JWT.", false);
  }
  let payload: JWTPayload;
  try {
    payload = decodeJwt(assertion); // unverified: only to find whose keys verify it
  } catch {
    throw failure("The client assertion is not a JWT.", false);
  }
  if (typeof payload.iss !== "string" || payload.iss === "")
    throw failure("The client assertion has no iss.", false);
  return payload.iss;
}

export interface AuthenticationContext {
  /** Where the client authenticates: introspection refuses public clients. */
  endpoint: ClientEndpoint;
  env: Env;
  config: ProviderConfig;
  request: Request;
  params: CredentialParams;
  /** The URL of the endpoint being called, an acceptable assertion audience. */
  endpointUrl: string;
  /** The request's TLS client certificate, as Cloudflare reported it (src/mtls/certificate.ts). */
  certificate: ClientCertificate | undefined;
}

/** What a failed attempt had found out: the registered client it named, if any (for the log). */
export interface Attempt {
  client?: ClientRecord;
}

/** Authenticates the calling client, or throws 401 invalid_client. */
export async function authenticateClient(
  ctx: AuthenticationContext,
  attempt: Attempt = {},
): Promise<ClientRecord> {
  const presented = presentedCredentials(ctx.request, ctx.params);
  // RFC 8705 §2: a client_id with a certificate may be a mutual-TLS client;
  // without one, it is a public client, refused before any lookup.
  if (presented.method === "none" && ctx.endpoint === "introspection" && !ctx.certificate)
    throw publicIntrospection();
  // RFC 7662 §2.1: introspection serves protected resources. A client that
  // describes itself in a metadata document is never one (no administrator
  // made it a resource server), so it is refused before its document is fetched.
  if (ctx.endpoint === "introspection" && isClientIdUrl(presented.clientId))
    throw failure(
      "A client identified by a metadata document URL cannot use introspection.",
      false,
    );
  const client = await lookUpClient(ctx.env, ctx.config, presented.clientId);
  if (!client) throw failure("Client authentication failed.", presented.viaHeader);
  attempt.client = client;
  // Not naming the registered method: an unauthenticated caller learns nothing about the client.
  const wrongMethod = () =>
    failure(
      "The client used an authentication method it is not registered for.",
      presented.viaHeader,
    );
  const { credential } = client;
  switch (credential.method) {
    case "none":
      if (presented.method !== "none") throw wrongMethod();
      if (ctx.endpoint === "introspection") throw publicIntrospection();
      return client;
    case "tls_client_auth":
    case "self_signed_tls_client_auth":
      // RFC 8705 §2: "the client MUST include the client_id parameter", and
      // nothing else: the certificate is the credential.
      if (presented.method !== "none" || !ctx.certificate) throw wrongMethod();
      certificateMatches(credential, ctx.certificate);
      return client;
    case "client_secret_basic":
    case "client_secret_post":
      if (presented.method !== credential.method) throw wrongMethod();
      if (!(await clientSecretMatches(presented.secret, credential.secretHash))) {
        throw failure("Client authentication failed.", presented.viaHeader);
      }
      return client;
    case "client_secret_jwt": {
      if (presented.method !== "jwt") throw wrongMethod();
      const secret = await openClientSecret(
        credential.sealedSecret,
        (await serverKeys(ctx.env)).clientSecret,
      );
      if (!secret) throw failure("Client authentication failed.", false);
      await verifyAssertion(ctx, client, presented.assertion, secret, SECRET_ALGS);
      return client;
    }
    case "private_key_jwt": {
      if (presented.method !== "jwt") throw wrongMethod();
      let keys: ReturnType<typeof createLocalJWKSet>;
      try {
        keys = createLocalJWKSet(credential.jwks);
      } catch {
        // A stored key set the JOSE library cannot read: the client cannot authenticate.
        throw failure("Client authentication failed.", false);
      }
      await verifyAssertion(ctx, client, presented.assertion, keys, PRIVATE_KEY_ALGS);
      return client;
    }
    default:
      // A stored record of no known method (written by hand, or by a newer
      // version): refused like any other mismatch, never a 500.
      throw wrongMethod();
  }
}

/**
 * RFC 7662 §2.1: "To prevent token scanning attacks, the endpoint MUST also
 * require some form of authorization"; a client_id alone is none.
 */
const publicIntrospection = () =>
  failure(
    "Introspection needs a client that authenticates (RFC 7662 section 2.1); a client_id alone is not enough.",
    false,
  );

/**
 * RFC 8705 §2: "If no certificate is presented, or that which is presented
 * doesn't match that which is expected for the given client_id, the
 * authorization server returns ... the invalid_client error code".
 */
function certificateMatches(
  credential: Extract<
    ClientRecord["credential"],
    { method: "tls_client_auth" | "self_signed_tls_client_auth" }
  >,
  certificate: ClientCertificate,
): void {
  if (credential.method === "tls_client_auth") {
    // §2.1: "It relies on a validated certificate chain [RFC5280] and a
    // single subject distinguished name". Cloudflare validated the chain
    // against the CAs configured for the zone; the subject is ours to match.
    if (!certificate.chainVerified) {
      throw failure(
        "The TLS client certificate does not chain to a certificate authority trusted for mutual TLS.",
        false,
      );
    }
    // A stored record without its subject (written by hand, or by an older
    // version) authenticates nobody: refused, never a 500.
    if (
      typeof credential.subjectDn !== "string" ||
      !sameDistinguishedName(credential.subjectDn, certificate.subjectDn)
    ) {
      throw failure(
        "The TLS client certificate's subject does not match the client's registered subject DN.",
        false,
      );
    }
    return;
  }
  // §2.2: "the client's certificate chain is not validated by the server in
  // this case. The client is successfully authenticated if the certificate
  // that it presented during the handshake matches one of the certificates
  // configured or registered for that particular client."
  if (!Array.isArray(credential.thumbprints) || !credential.thumbprints.includes(certificate.x5t)) {
    throw failure(
      "The TLS client certificate is not one of the client's registered certificates.",
      false,
    );
  }
}

async function verifyAssertion(
  ctx: AuthenticationContext,
  client: ClientRecord,
  assertion: string,
  key: Uint8Array | ReturnType<typeof createLocalJWKSet>,
  algorithms: string[],
): Promise<void> {
  const alg = safeAlg(assertion);
  if (!alg || !algorithms.includes(alg)) {
    throw failure(
      `The client assertion must be signed with one of ${advertisedAlgs(algorithms).join(", ")}.`,
      false,
    );
  }
  const audiences = [ctx.config.issuer, `${ctx.config.issuer}/token`, ctx.endpointUrl];
  const options = {
    algorithms,
    audience: audiences,
    clockTolerance: CLOCK_SKEW,
    requiredClaims: ["exp", "jti", "sub", "iss"],
  };
  let payload: JWTPayload;
  try {
    const verified =
      key instanceof Uint8Array
        ? await jwtVerify(assertion, key, options)
        : await jwtVerify(assertion, key, options);
    payload = verified.payload;
  } catch (error) {
    throw failure(assertionProblem(error), false);
  }
  // RFC 7523 §3: iss and sub are both the client_id.
  if (payload.iss !== client.client_id || payload.sub !== client.client_id) {
    throw failure("The client assertion's iss and sub must both be the client_id.", false);
  }
  const exp = payload.exp as number;
  // jose checks iat's type only; an assertion minted in the future is refused like one not yet valid.
  if (typeof payload.iat === "number" && payload.iat > nowSeconds() + CLOCK_SKEW) {
    throw failure("The client assertion is not yet valid (its iat is in the future).", false);
  }
  if (exp - nowSeconds() > MAX_ASSERTION_LIFETIME) {
    throw failure(
      `The client assertion must expire within ${MAX_ASSERTION_LIFETIME} seconds.`,
      false,
    );
  }
  const jti = payload.jti as string;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) {
    throw failure("The client assertion's jti must be a string of 1 to 256 characters.", false);
  }
  const guard = ctx.env.REPLAY_GUARD.getByName(client.client_id);
  if (!(await guard.consume(jti, (exp + CLOCK_SKEW) * 1000))) {
    throw failure("The client assertion was already used (its jti has been seen).", false);
  }
}

function safeAlg(jwt: string): string | undefined {
  try {
    return decodeProtectedHeader(jwt).alg;
  } catch {
    return undefined;
  }
}

function assertionProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The client assertion has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "aud")
      return "The client assertion's audience must be the issuer or this endpoint.";
    if (error.claim === "nbf" || error.claim === "iat")
      return "The client assertion is not yet valid.";
    return `The client assertion's ${error.claim} claim is missing or invalid.`;
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  ) {
    return "The client assertion's signature does not verify with the client's keys.";
  }
  return "The client assertion is invalid.";
}
