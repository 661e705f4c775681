import { LOOPBACK_HOSTS } from "../lib/loopback";

/**
 * Redirect URI rules: RFC 6749 §3.1.2 (absolute, no fragment), RFC 9700 §2.1
 * (exact matching) and RFC 8252 for native apps (private-use schemes, and
 * loopback redirects that may use any port).
 */

const MAX_LENGTH = 2000;

/** Why a URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  if (uri.includes("#")) return "must not contain a fragment";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "must be an absolute URI";
  }
  if (url.username || url.password) return "must not contain user information";
  const scheme = url.protocol.slice(0, -1);
  if (scheme === "https") return undefined;
  if (scheme === "http") {
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : "may use plain http only for a loopback address";
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name (it contains a dot).
  if (!scheme.includes("."))
    return "must use https, http on a loopback address, or a private-use scheme such as com.example.app";
  return undefined;
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
}

/** The registered URI that the presented one matches, exactly or (loopback) but for the port. */
export function matchRedirectUri(
  registered: readonly string[],
  presented: string,
): string | undefined {
  if (registered.includes(presented)) return presented;
  let url: URL;
  try {
    url = new URL(presented);
  } catch {
    return undefined;
  }
  if (!isLoopbackHttp(url) || presented.includes("#")) return undefined;
  for (const candidate of registered) {
    let reg: URL;
    try {
      reg = new URL(candidate);
    } catch {
      continue;
    }
    // RFC 8252 §7.3: the port of a loopback redirect is chosen by the app at run time.
    if (
      isLoopbackHttp(reg) &&
      reg.hostname === url.hostname &&
      reg.pathname === url.pathname &&
      reg.search === url.search
    ) {
      return candidate;
    }
  }
  return undefined;
}
