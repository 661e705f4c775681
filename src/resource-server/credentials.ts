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
  const header = request.headers.get("Authorization")?.trim();
  if (!header) return undefined;
  const [scheme = "", ...rest] = header.split(/ +/);
  // Auth schemes are case-insensitive (RFC 9110 §11.1). Another scheme
  // (Basic, ...) is no access token: as if there were none.
  const which: Scheme | undefined =
    scheme.toLowerCase() === "bearer"
      ? "Bearer"
      : scheme.toLowerCase() === "dpop"
        ? "DPoP"
        : undefined;
  if (!which) return undefined;
  const [token] = rest;
  if (rest.length !== 1 || !token || !B64TOKEN.test(token)) {
    return refuse(400, "invalid_request", "The Authorization header is malformed.", which);
  }
  return { scheme: which, token };
}
