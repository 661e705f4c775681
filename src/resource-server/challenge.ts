/**
 * RFC 6750 §3: how a protected resource refuses a request. A refusal is data
 * (a `Refusal`) until the edge of the module turns it into a Response, so the
 * checks stay pure and testable.
 */

/** RFC 6750 §3.1 error codes. `undefined`: no credentials at all (a bare challenge). */
export type ErrorCode = "invalid_request" | "invalid_token" | "insufficient_scope";

export type Scheme = "Bearer" | "DPoP";

export interface Refusal {
  status: 400 | 401 | 403;
  /** §3.1: "If the request lacks any authentication information ... SHOULD NOT include an error code". */
  error?: ErrorCode;
  description?: string;
  /** The scheme the error is about: DPoP when the request or the token used it. */
  scheme: Scheme;
  /** For insufficient_scope: the scopes the route needs (§3 "scope" attribute). */
  scope?: readonly string[];
}

export interface ChallengeSettings {
  realm?: string;
  /** RFC 9728 §5.1: the URL of this resource's protected-resource metadata. */
  resourceMetadata?: string;
  /** RFC 9449 §7.1: the algs the DPoP challenge lists; absent: no DPoP challenge. */
  dpopAlgs?: readonly string[];
}

export const refuse = (
  status: Refusal["status"],
  error: ErrorCode,
  description: string,
  scheme: Scheme = "Bearer",
): Refusal => ({ status, error, description, scheme });

/**
 * RFC 6749 §5.2 (which RFC 6750 §3 refers to): error_description is
 * %x20-21 / %x23-5B / %x5D-7E. Anything else becomes a space, so a caller's
 * text can never break the header's quoting.
 */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, " ");
}

/** RFC 6750 §3: a scope value is %x21 / %x23-5B / %x5D-7E, space-delimited. */
const safeScope = (scope: readonly string[]) =>
  scope.filter((s) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)).join(" ");

/** A quoted-string of RFC 7235 §2.1 whose content is already in a safe charset. */
const param = (name: string, value: string) => `${name}="${value}"`;

function challenge(scheme: Scheme, refusal: Refusal | undefined, settings: ChallengeSettings) {
  const params: string[] = [];
  if (settings.realm) params.push(param("realm", safeDescription(settings.realm)));
  if (scheme === "DPoP" && settings.dpopAlgs?.length) {
    params.push(param("algs", settings.dpopAlgs.join(" ")));
  }
  if (refusal?.error) {
    params.push(param("error", refusal.error));
    if (refusal.description) {
      params.push(param("error_description", safeDescription(refusal.description)));
    }
    if (refusal.scope?.length) params.push(param("scope", safeScope(refusal.scope)));
  }
  if (settings.resourceMetadata) {
    params.push(param("resource_metadata", safeDescription(settings.resourceMetadata)));
  }
  return params.length ? `${scheme} ${params.join(", ")}` : scheme;
}

/**
 * The WWW-Authenticate value: the challenge of the scheme in error carries the
 * error; when DPoP is accepted, the other scheme's challenge follows, bare
 * (RFC 9449 §7.1: a resource that accepts both may offer both).
 */
export function wwwAuthenticate(refusal: Refusal | undefined, settings: ChallengeSettings): string {
  const scheme = refusal?.scheme ?? "Bearer";
  const first = challenge(scheme, refusal, settings);
  if (!settings.dpopAlgs?.length) return first;
  const other: Scheme = scheme === "Bearer" ? "DPoP" : "Bearer";
  return `${first}, ${challenge(other, undefined, settings)}`;
}

/**
 * The response for a refusal: the challenge, and the error repeated as JSON
 * for humans (none for a bare challenge, which has no error).
 */
export function refusalResponse(refusal: Refusal | undefined, settings: ChallengeSettings) {
  const headers = new Headers({
    "WWW-Authenticate": wwwAuthenticate(refusal, settings),
    "Cache-Control": "no-store",
  });
  if (!refusal?.error) return new Response(null, { status: 401, headers });
  headers.set("Content-Type", "application/json");
  const body = {
    error: refusal.error,
    ...(refusal.description ? { error_description: safeDescription(refusal.description) } : {}),
  };
  return new Response(JSON.stringify(body), { status: refusal.status, headers });
}
