import { type Refusal, refuse, type Scheme } from "./challenge";

/**
 * The access token a request presents (RFC 6750 §2.1, RFC 9449 §7.1): the
 * Authorization header only. Form-body and query tokens (RFC 6750 §2.2, §2.3)
 * are not accepted: they end up in logs and caches.
 */
export interface Presented {
  scheme: Scheme;
  token: string;
}

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** `undefined`: no credentials at all (answered with a bare challenge, RFC 6750 §3.1). */
export function presentedToken(request: Request): Presented | Refusal | undefined {
  const header = request.headers.get("Authorization");
  if (header === null || header.trim() === "") return undefined;
  const match = /^(\S+) +(\S+)$/.exec(header.trim());
  // Auth schemes are case-insensitive (RFC 9110 §11.1).
  const scheme = match?.[1]?.toLowerCase();
  const token = match?.[2];
  if (scheme !== "bearer" && scheme !== "dpop") {
    // Another scheme (Basic, ...) is not an access token for us: as if none.
    return /^(\S+)/
      .exec(header)?.[1]
      ?.toLowerCase()
      .match(/^(bearer|dpop)$/)
      ? refuse(400, "invalid_request", "The Authorization header is malformed.")
      : undefined;
  }
  const which: Scheme = scheme === "dpop" ? "DPoP" : "Bearer";
  if (!token || !B64TOKEN.test(token)) {
    return refuse(400, "invalid_request", "The Authorization header is malformed.", which);
  }
  return { scheme: which, token };
}
