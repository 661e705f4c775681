import type { JWTVerifyGetKey } from "jose";
import {
  type AccessTokenClaims,
  type FetchLike,
  remoteKeySet,
  verifyAccessToken,
} from "./access-token";
import { presentedThumbprint } from "./certificate";
import { type ChallengeSettings, type Refusal, refusalResponse, refuse } from "./challenge";
import { type Presented, presentedToken } from "./credentials";
import { checkProof, PROOF_ALGS } from "./dpop-proof";
import { type IntrospectionOptions, Introspector } from "./introspection";
import {
  metadataResponse,
  type ProtectedResourceMetadata,
  protectedResourceMetadataUrl,
} from "./metadata";
import { MemoryReplayStore, type ReplayStore } from "./replay";

export interface ResourceServerOptions {
  /** The authorization server's issuer identifier, exactly as in its tokens' `iss`. */
  issuer: string;
  /**
   * The audience(s) this API accepts in `aud` (RFC 9068 §4 item 3): its
   * resource identifier. Tokens from this authorization server carry its
   * issuer URL until resources are registered; pass that then.
   */
  audience: string | readonly string[];
  /** Where the keys are; default `${issuer}/jwks`. */
  jwksUrl?: string;
  /**
   * How to reach the authorization server (JWKS and introspection): e.g.
   * `(request) => env.AUTH.fetch(request)` for a service binding. The global
   * fetch if absent.
   */
  fetch?: FetchLike;
  /** Floor between two JWKS fetches caused by unknown `kid`s (s). Default 30. */
  jwksCooldownSeconds?: number;
  /** Key set reuse before a refetch (s). Default 600. */
  jwksMaxAgeSeconds?: number;
  /** Clock skew tolerated on exp, nbf, iat and a DPoP proof's iat (s). Default 30. */
  leewaySeconds?: number;
  /** The `realm` of the challenges. */
  realm?: string;
  /**
   * RFC 9728 §5.1: this API's protected-resource metadata URL, put in every
   * challenge. Default: the well-known URL of `metadata`'s resource, when
   * `metadata` is given.
   */
  resourceMetadata?: string;
  /**
   * RFC 9728: the metadata document this API publishes at its
   * /.well-known/oauth-protected-resource (served by
   * `protectedResourceMetadata(rs)` or `rs.metadataResponse(request)`). The
   * admin API's GET /admin/resources/:id/metadata output can be passed as is;
   * or only some fields, the rest filled in: `resource` (the audience, when
   * it is one string), `authorization_servers` ([issuer]),
   * `bearer_methods_supported` (["header"]), `dpop_signing_alg_values_supported`
   * (when DPoP is on) and `tls_client_certificate_bound_access_tokens` (true:
   * certificate-bound tokens are checked).
   */
  metadata?: Partial<ProtectedResourceMetadata>;
  /** DPoP (RFC 9449): on by default; `false` refuses the DPoP scheme. */
  dpop?:
    | false
    | {
        /** Where a proof's jti is remembered; default this isolate's memory (see replay.ts). */
        replay?: ReplayStore;
        /** How far from now a proof's iat may be (s). Default 60. */
        windowSeconds?: number;
      };
  /**
   * Ask the authorization server whether each token is still active
   * (revocation): over HTTP at `url` (default `${issuer}/introspect`, through
   * `fetch`), or, with `binding`, by RPC to its `Introspection` entrypoint.
   */
  introspection?: Omit<IntrospectionOptions, "fetch" | "url"> & { url?: string };
}

export interface RouteRequirements {
  /** RFC 6749 §3.3 scopes the route needs; every one must be granted. */
  scopes?: readonly string[];
}

/** A request whose access token passed every check. */
export interface VerifiedToken {
  token: string;
  claims: AccessTokenClaims;
  scopes: ReadonlySet<string>;
  /** How the token was sender-constrained, if at all. */
  binding: "none" | "dpop" | "mtls";
}

export interface ResourceServer {
  /** The verified token, or the Response to return (401, 403, 400; 503 when introspection is down). */
  authenticate(
    request: Request,
    requirements?: RouteRequirements,
  ): Promise<VerifiedToken | Response>;
  /** The RFC 9728 document and where it is published; absent without the `metadata` option. */
  readonly metadata?: { document: ProtectedResourceMetadata; url: string };
  /**
   * For a plain fetch handler: the metadata response when the request is a
   * GET or HEAD of the metadata's well-known path, else undefined (the
   * request is someone else's).
   */
  metadataResponse(request: Request): Response | undefined;
}

/** RFC 9449 §7.2: a DPoP-bound token presented as a Bearer token is refused. */
const BOUND_AS_BEARER =
  "This access token is DPoP-bound: present it with the DPoP scheme and a proof.";

/**
 * The authorization server could not be asked (keys, introspection): a 503,
 * not a 401, so the client does not throw away a good token.
 */
function unavailable(description: string): Response {
  return new Response(
    JSON.stringify({ error: "temporarily_unavailable", error_description: description }),
    {
      status: 503,
      headers: {
        "Content-Type": "application/json",
        "Retry-After": "5",
        "Cache-Control": "no-store",
      },
    },
  );
}

export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const issuer = options.issuer.replace(/\/+$/, "");
  const keys: JWTVerifyGetKey = remoteKeySet({
    url: options.jwksUrl ?? `${issuer}/jwks`,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    cooldownMs: (options.jwksCooldownSeconds ?? 30) * 1000,
    maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000,
  });
  const leewaySeconds = options.leewaySeconds ?? 30;
  const dpop = options.dpop === false ? undefined : (options.dpop ?? {});
  const replay = dpop ? (dpop.replay ?? new MemoryReplayStore()) : undefined;
  const windowSeconds = dpop?.windowSeconds ?? 60;
  const introspector = options.introspection
    ? new Introspector({
        ...options.introspection,
        url: options.introspection.url ?? `${issuer}/introspect`,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    : undefined;
  const metadata = options.metadata ? publishedMetadata(options, dpop !== undefined) : undefined;
  const resourceMetadata = options.resourceMetadata ?? metadata?.url;
  const settings: ChallengeSettings = {
    ...(options.realm ? { realm: options.realm } : {}),
    ...(resourceMetadata ? { resourceMetadata } : {}),
    ...(dpop ? { dpopAlgs: PROOF_ALGS } : {}),
  };

  /** RFC 9449 §7.1 and RFC 8705 §3: the token is used by the one it is bound to. */
  async function checkBinding(
    request: Request,
    presented: Presented,
    claims: AccessTokenClaims,
  ): Promise<Refusal | VerifiedToken["binding"]> {
    // The certificate first: a refusal for it spends no DPoP proof.
    const x5t = claims.cnf?.["x5t#S256"];
    if (x5t !== undefined && presentedThumbprint(request) !== x5t) {
      return refuse(
        401,
        "invalid_token",
        "This access token is bound to a client certificate the request was not made with.",
        presented.scheme,
      );
    }
    const jkt = claims.cnf?.jkt;
    if (jkt !== undefined) {
      if (!dpop || !replay)
        return refuse(401, "invalid_token", "DPoP-bound tokens are not accepted here.");
      if (presented.scheme !== "DPoP") return refuse(401, "invalid_token", BOUND_AS_BEARER, "DPoP");
      const now = Math.floor(Date.now() / 1000);
      const proof = await checkProof(request.headers.get("DPoP"), {
        method: request.method,
        url: request.url,
        accessToken: presented.token,
        jkt,
        now,
        windowSeconds,
      });
      if (!proof.ok) return refuse(401, "invalid_token", proof.description, "DPoP");
      const until = (proof.iat + windowSeconds + 1) * 1000;
      if (!(await replay.firstUse(`${jkt}.${proof.jti}`, until))) {
        return refuse(401, "invalid_token", "This DPoP proof was used before.", "DPoP");
      }
    } else if (presented.scheme === "DPoP") {
      // RFC 9449 §7.1: the DPoP scheme is for DPoP-bound tokens.
      return refuse(
        401,
        "invalid_token",
        "This access token is not DPoP-bound: use Bearer.",
        "DPoP",
      );
    }
    return jkt !== undefined ? "dpop" : x5t !== undefined ? "mtls" : "none";
  }

  async function authenticate(
    request: Request,
    requirements: RouteRequirements = {},
  ): Promise<VerifiedToken | Response> {
    const presented = presentedToken(request);
    if (presented === undefined) return refusalResponse(undefined, settings);
    if ("status" in presented) return refusalResponse(presented, settings);
    if (presented.scheme === "DPoP" && !dpop) {
      return refusalResponse(
        refuse(401, "invalid_token", "The DPoP scheme is not accepted here."),
        settings,
      );
    }
    const verified = await verifyAccessToken(presented.token, keys, {
      issuer: options.issuer,
      audience: options.audience,
      leewaySeconds,
    });
    if ("unavailable" in verified)
      return unavailable("The authorization server's keys could not be read.");
    if (!verified.ok) {
      return refusalResponse({ ...verified.refusal, scheme: presented.scheme }, settings);
    }
    const { claims } = verified;
    const binding = await checkBinding(request, presented, claims);
    if (typeof binding !== "string") return refusalResponse(binding, settings);
    if (introspector) {
      const live = await introspector.liveness(presented.token, claims.exp);
      // Fail closed: without an answer, a revoked token must not pass.
      if (live === "unknown") return unavailable("The token's status could not be checked.");
      if (live === "inactive") {
        const refusal = refuse(
          401,
          "invalid_token",
          "The access token has been revoked.",
          presented.scheme,
        );
        return refusalResponse(refusal, settings);
      }
    }
    const scopes = new Set((claims.scope ?? "").split(" ").filter(Boolean));
    const needed = requirements.scopes ?? [];
    if (!needed.every((scope) => scopes.has(scope))) {
      // RFC 6750 §3.1: 403, and §3 "scope": the scopes the request needs.
      return refusalResponse(
        {
          ...refuse(
            403,
            "insufficient_scope",
            "The access token lacks a scope this request needs.",
          ),
          scheme: presented.scheme,
          scope: needed,
        },
        settings,
      );
    }
    return { token: presented.token, claims, scopes, binding };
  }

  const metadataPath = metadata ? new URL(metadata.url).pathname : undefined;
  function serveMetadata(request: Request): Response | undefined {
    if (!metadata || new URL(request.url).pathname !== metadataPath) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    return metadataResponse(metadata.document, request.method);
  }

  return {
    authenticate,
    ...(metadata ? { metadata } : {}),
    metadataResponse: serveMetadata,
  };
}

/** The `metadata` option completed with what this resource server does (see ResourceServerOptions). */
function publishedMetadata(
  options: ResourceServerOptions,
  dpop: boolean,
): { document: ProtectedResourceMetadata; url: string } {
  const given = options.metadata ?? {};
  const resource =
    given.resource ?? (typeof options.audience === "string" ? options.audience : undefined);
  // RFC 9728 §3.3: "The resource value returned MUST be identical to the
  // protected resource's resource identifier value into which the well-known
  // URI path suffix was inserted to create the URL used to retrieve the metadata."
  if (!resource)
    throw new Error("metadata.resource is required when the audience is not one string");
  const document: ProtectedResourceMetadata = {
    // The issuer exactly as tokens carry it in `iss` (RFC 8414 §2).
    authorization_servers: [options.issuer],
    // credentials.ts reads the Authorization header only (RFC 6750 §2.1).
    bearer_methods_supported: ["header"],
    ...(dpop ? { dpop_signing_alg_values_supported: [...PROOF_ALGS] } : {}),
    // checkBinding compares a token's cnf x5t#S256 with the request's certificate.
    tls_client_certificate_bound_access_tokens: true,
    ...given,
    resource,
  };
  return { document, url: protectedResourceMetadataUrl(resource) };
}
