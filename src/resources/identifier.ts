import { LOOPBACK_HOSTS } from "../lib/loopback";
import { MAX_IDENTIFIER_LENGTH } from "./registry";

/**
 * RFC 8707 §2: the `resource` value "MUST be an absolute URI, as specified by
 * Section 4.3 of [RFC3986]. The URI MUST NOT include a fragment component."
 * We register only network-addressable ones (RFC 8707 §3: "Whenever feasible,
 * the resource parameter should correspond to the network-addressable
 * location of the protected resource"): https, or plain http on a loopback
 * host for local development; and no user information, which has no place in
 * an identifier that tokens carry as `aud`. Identifiers are compared exactly,
 * character for character, as `aud` is (RFC 7519 §4.1.3).
 *
 * Answers what is wrong, or undefined when the identifier is acceptable.
 */
export function identifierProblem(identifier: string): string | undefined {
  if (identifier.length > MAX_IDENTIFIER_LENGTH)
    return `must be at most ${MAX_IDENTIFIER_LENGTH} characters`;
  if (identifier.includes("#")) return "must not include a fragment (RFC 8707 section 2)";
  if (/[^\x21-\x7E]/.test(identifier))
    return "must be a URI: printable ASCII without spaces (percent-encode the rest)";
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    return "must be an absolute URI (RFC 8707 section 2)";
  }
  if (url.username || url.password) return "must not include user information";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return "must use https (or http on localhost, 127.0.0.1 or [::1])";
}
