import { OAuthError } from "./errors";
import { isLoopbackUrl } from "./lib/loopback";

/**
 * Provider-wide settings, read from wrangler vars in this one place. A
 * client's own settings (src/clients/policy.ts) win over the defaults here.
 */

export type Rotation = "rotate" | "reuse";

/**
 * Who may register a client at /register (RFC 7591): anyone (`open`), the
 * holders of the initial access token REGISTRATION_TOKEN (`token`, RFC 7591
 * §3), or nobody (`off`: the endpoint does not exist).
 */
export const REGISTRATION_MODES = ["open", "token", "off"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** The shortest initial access token accepted: a guessable one would make `token` mode `open`. */
export const MIN_REGISTRATION_TOKEN_LENGTH = 32;

/** Refresh-token defaults; see RefreshPolicy for what each field means. */
export interface RefreshDefaults {
  issue: boolean;
  rotation: Rotation;
  graceSeconds: number;
  absoluteLifetime: number;
  idleLifetime: number;
  requireOfflineAccess: boolean;
}

export interface ProviderConfig {
  issuer: string;
  /** True only under `wrangler dev` (ENVIRONMENT=development). */
  development: boolean;
  scopes: readonly string[];
  accessTokenLifetime: number;
  idTokenLifetime: number;
  authorizationCodeLifetime: number;
  loginSessionLifetime: number;
  /** RFC 8628 §3.2 expires_in: how long a device code and its user code live, seconds. */
  deviceCodeLifetime: number;
  /** RFC 8628 §3.2 interval: the seconds a device waits between polls, before any slow_down. */
  deviceCodeInterval: number;
  refresh: RefreshDefaults;
  signingKeyRotationSeconds: number;
  /** A password set through the admin API revokes the user's grants too. */
  revokeGrantsOnPasswordChange: boolean;
  /** Failed sign-in and failed client-authentication rate limits (README, "Rate limits"). */
  rateLimits: boolean;
  /** RFC 9449 §8: DPoP proofs at the token endpoint must carry a server nonce. */
  dpopRequireNonce: boolean;
  /**
   * RFC 8705 §5: the origin (`https://host[:port]`) that serves the mTLS
   * endpoint aliases, from MTLS_ENDPOINT_ORIGIN; undefined when there is none.
   */
  mtlsEndpointOrigin: string | undefined;
  /** RFC 7591 dynamic registration: who may register (README, "Clients that register themselves"). */
  registration: RegistrationMode;
  /**
   * draft-ietf-oauth-client-id-metadata-document: an https URL client_id is
   * read from the document at that URL (README, "Client ID Metadata Documents").
   */
  clientMetadataDocuments: boolean;
  /**
   * REGISTERED_CLIENT_UNUSED_DAYS: a self-registered client that has obtained
   * no token this many days after registering is deleted (0: never). README,
   * "Clients that register themselves".
   */
  registeredClientUnusedDays: number;
  /**
   * RFC 8707 §2.1: "the authorization server MAY process the request with no
   * specific resource or by using a predefined default resource value". The
   * `aud` of an access token whose request named no resource (and whose grant
   * covers no single one): DEFAULT_AUDIENCE, or the issuer when it is empty.
   */
  defaultAudience: string;
}

/** Upper bounds that keep key retention and revocation-list TTLs finite. */
export const LIMITS = {
  maxAccessTokenLifetime: 86_400,
  maxIdTokenLifetime: 86_400,
  maxAuthorizationCodeLifetime: 60,
  maxGraceSeconds: 60,
  /** Form bodies of the OAuth endpoints (RFC 6749 requests are small). */
  maxFormBytes: 16 * 1024,
  /** JSON bodies of the admin API (a client's JWKS can be a few KB). */
  maxJsonBytes: 64 * 1024,
  maxHeaderBytes: 8 * 1024,
  maxTotalHeaderBytes: 32 * 1024,
} as const;

const STANDARD_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

function configError(name: string, why: string): OAuthError {
  return new OAuthError("server_error", `The service is misconfigured (${name} ${why}).`);
}

/**
 * The vars of wrangler.toml (strings), not the bindings or the optional
 * secrets. A var can still be missing at run time (a test's env, a deployment
 * that removed it), hence the fallbacks below.
 */
type VarName = { [K in keyof Env]-?: Env[K] extends string ? K : never }[keyof Env];

function seconds(env: Env, name: VarName, fallback: number, max: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function flag(env: Env, name: VarName, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw configError(name, 'must be "true" or "false"');
}

function onOff(env: Env, name: VarName, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw configError(name, 'must be "on" or "off"');
}

export function isDevelopment(env: Env): boolean {
  return env.ENVIRONMENT === "development";
}

/** A configured issuer, checked once per env (it is read on every request). */
const checkedIssuers = new WeakMap<Env, string>();

function issuerOf(env: Env, requestUrl: string): string {
  // Development answers on this machine only, whatever ISSUER says: elsewhere a
  // Host header would reach the well-known development secrets and admin token.
  if (isDevelopment(env) && !isLoopbackUrl(requestUrl)) {
    throw new OAuthError(
      "invalid_request",
      "In development the service answers on a loopback address only (localhost, 127.0.0.1, [::1]).",
      { status: 421 },
    );
  }
  const known = checkedIssuers.get(env);
  if (known) return known;
  const configured = env.ISSUER?.trim();
  if (configured) {
    // RFC 8414 §2: the issuer "is a URL that uses the "https" scheme and has
    // no query or fragment components" (plain http only for local development).
    let url: URL | undefined;
    try {
      url = new URL(configured);
    } catch {
      url = undefined;
    }
    const https = url?.protocol === "https:" || (isDevelopment(env) && url?.protocol === "http:");
    if (
      !url ||
      !https ||
      url.search ||
      url.hash ||
      url.username ||
      url.password ||
      /[?#]/.test(configured)
    ) {
      throw configError("ISSUER", "must be an https URL with no query or fragment");
    }
    const issuer = configured.replace(/\/+$/, "");
    checkedIssuers.set(env, issuer);
    return issuer;
  }
  // The request origin is trusted only in development (checked above to be
  // this machine): in production a Host header would choose the issuer.
  if (isDevelopment(env)) return new URL(requestUrl).origin;
  throw configError("ISSUER", "is not set");
}

/**
 * How long an isolate may reuse what it read from KV (0: read KV every time).
 * Each bound adds to KV's own (about 60 s between locations); README,
 * "Consistency bounds".
 */
export interface IsolateCacheSettings {
  /** A client record, on the token, revocation, introspection and authorize paths. */
  clientSeconds: number;
  /**
   * "This access token is not revoked", on introspection and userinfo; and
   * the list of revoked signing keys, read again once it is this old.
   */
  revocationSeconds: number;
}

export const MAX_ISOLATE_CACHE_SECONDS = 60;

/**
 * REGISTERED_CLIENT_UNUSED_DAYS (default 7, 0 to 3650; 0 turns expiry off),
 * read by the Worker (so a bad value refuses to run, as every var) and by
 * the client directory's alarm, which has no request.
 */
export const registeredClientUnusedDays = (env: Env): number =>
  seconds(env, "REGISTERED_CLIENT_UNUSED_DAYS", 7, 3650);

const cacheSettings = new WeakMap<Env, IsolateCacheSettings>();

export function isolateCacheSettings(env: Env): IsolateCacheSettings {
  let settings = cacheSettings.get(env);
  if (!settings) {
    settings = {
      clientSeconds: seconds(env, "CLIENT_CACHE_SECONDS", 5, MAX_ISOLATE_CACHE_SECONDS),
      revocationSeconds: seconds(env, "REVOCATION_CACHE_SECONDS", 5, MAX_ISOLATE_CACHE_SECONDS),
    };
    cacheSettings.set(env, settings);
  }
  return settings;
}

/**
 * MTLS_ENDPOINT_ORIGIN: an https origin, nothing more (the aliases are its
 * paths), on another host than the issuer's, and only beside a configured
 * ISSUER: a request to the alias must never become the issuer, as the
 * request origin does in development without ISSUER.
 */
function mtlsEndpointOrigin(env: Env): string | undefined {
  const raw = env.MTLS_ENDPOINT_ORIGIN?.trim();
  if (!raw) return undefined;
  const problem = configError(
    "MTLS_ENDPOINT_ORIGIN",
    "must be an https origin, e.g. https://mtls.auth.example.com",
  );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw problem;
  }
  const https = url.protocol === "https:" || (isDevelopment(env) && url.protocol === "http:");
  if (!https || url.origin !== raw.replace(/\/+$/, "") || url.username || url.password)
    throw problem;
  const issuer = env.ISSUER?.trim();
  if (!issuer) throw configError("MTLS_ENDPOINT_ORIGIN", "needs ISSUER to be set");
  let issuerHost: string | undefined;
  try {
    issuerHost = new URL(issuer).hostname;
  } catch {
    issuerHost = undefined; // ISSUER's own check reports it
  }
  // Another host, not just another port: Cloudflare turns mTLS on per hostname,
  // and the issuer's own pages must not ask browsers for a certificate.
  if (issuerHost === url.hostname)
    throw configError("MTLS_ENDPOINT_ORIGIN", "must be another host than the issuer's");
  return url.origin;
}

/**
 * REGISTRATION: `off` when unset (a deployment opens registration on
 * purpose); `token` needs the REGISTRATION_TOKEN secret, long enough not to
 * be guessed.
 */
function registrationMode(env: Env): RegistrationMode {
  const raw = env.REGISTRATION?.trim() || "off";
  if (!(REGISTRATION_MODES as readonly string[]).includes(raw))
    throw configError("REGISTRATION", 'must be "open", "token" or "off"');
  const mode = raw as RegistrationMode;
  if (mode === "token" && (env.REGISTRATION_TOKEN ?? "").length < MIN_REGISTRATION_TOKEN_LENGTH) {
    throw configError(
      "REGISTRATION",
      `is token, but the REGISTRATION_TOKEN secret is missing or shorter than ${MIN_REGISTRATION_TOKEN_LENGTH} characters`,
    );
  }
  return mode;
}

type BaseConfig = Omit<ProviderConfig, "issuer" | "defaultAudience"> & {
  configuredAudience: string | undefined;
};
const cache = new WeakMap<Env, BaseConfig>();

/** DEFAULT_AUDIENCE: an absolute URI without a fragment (RFC 8707 §2), or empty for the issuer. */
function configuredAudience(env: Env): string | undefined {
  const raw = env.DEFAULT_AUDIENCE?.trim();
  if (!raw) return undefined;
  try {
    new URL(raw);
  } catch {
    throw configError("DEFAULT_AUDIENCE", "must be an absolute URI");
  }
  if (raw.includes("#")) throw configError("DEFAULT_AUDIENCE", "must not include a fragment");
  return raw;
}

export function providerConfig(env: Env, requestUrl: string): ProviderConfig {
  let base = cache.get(env);
  if (!base) {
    const rotation = env.REFRESH_TOKEN_ROTATION || "rotate";
    if (rotation !== "rotate" && rotation !== "reuse") {
      throw configError("REFRESH_TOKEN_ROTATION", 'must be "rotate" or "reuse"');
    }
    const extra = (env.SUPPORTED_SCOPES ?? "").split(/\s+/).filter(Boolean);
    base = {
      development: isDevelopment(env),
      scopes: [...new Set([...STANDARD_SCOPES, ...extra])],
      accessTokenLifetime: seconds(
        env,
        "ACCESS_TOKEN_LIFETIME",
        900,
        LIMITS.maxAccessTokenLifetime,
        1,
      ),
      idTokenLifetime: seconds(env, "ID_TOKEN_LIFETIME", 3600, LIMITS.maxIdTokenLifetime, 1),
      authorizationCodeLifetime: seconds(
        env,
        "AUTHORIZATION_CODE_LIFETIME",
        60,
        LIMITS.maxAuthorizationCodeLifetime,
        1,
      ),
      loginSessionLifetime: seconds(env, "LOGIN_SESSION_LIFETIME", 28_800, 30 * 86_400, 60),
      // RFC 8628 §3.2: its example is 1800 s; 10 minutes is enough to walk to
      // a phone, and bounds the guesses any one code must survive (README).
      deviceCodeLifetime: seconds(env, "DEVICE_CODE_LIFETIME", 600, 1800, 60),
      deviceCodeInterval: seconds(env, "DEVICE_CODE_INTERVAL", 5, 60, 1),
      refresh: {
        issue: flag(env, "REFRESH_TOKEN_ISSUE", true),
        rotation,
        graceSeconds: seconds(env, "REFRESH_TOKEN_GRACE_SECONDS", 5, LIMITS.maxGraceSeconds),
        absoluteLifetime: seconds(
          env,
          "REFRESH_TOKEN_ABSOLUTE_LIFETIME",
          2_592_000,
          10 * 365 * 86_400,
        ),
        idleLifetime: seconds(env, "REFRESH_TOKEN_IDLE_LIFETIME", 604_800, 10 * 365 * 86_400),
        requireOfflineAccess: flag(env, "REFRESH_TOKEN_REQUIRE_OFFLINE_ACCESS", false),
      },
      signingKeyRotationSeconds: seconds(env, "SIGNING_KEY_ROTATION_DAYS", 30, 365, 1) * 86_400,
      revokeGrantsOnPasswordChange: flag(env, "REVOKE_GRANTS_ON_PASSWORD_CHANGE", true),
      rateLimits: onOff(env, "RATE_LIMITS", true),
      dpopRequireNonce: flag(env, "DPOP_REQUIRE_NONCE", true),
      mtlsEndpointOrigin: mtlsEndpointOrigin(env),
      registration: registrationMode(env),
      clientMetadataDocuments: onOff(env, "CLIENT_METADATA_DOCUMENTS", false),
      registeredClientUnusedDays: registeredClientUnusedDays(env),
      configuredAudience: configuredAudience(env),
    };
    if (
      base.rateLimits &&
      (!env.SIGN_IN_LIMITER ||
        !env.CLIENT_AUTH_LIMITER ||
        !env.REGISTRATION_LIMITER ||
        !env.DEVICE_CODE_LIMITER)
    ) {
      throw configError(
        "RATE_LIMITS",
        "is on, but a rate-limit binding of wrangler.toml is missing",
      );
    }
    cache.set(env, base);
  }
  const { configuredAudience: audience, ...rest } = base;
  const issuer = issuerOf(env, requestUrl);
  return { ...rest, issuer, defaultAudience: audience ?? issuer };
}
