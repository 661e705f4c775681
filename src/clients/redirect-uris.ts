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

/** RFC 8252 §8.3: loopback IP literals; "localhost" gets no port exception. */
const LOOPBACK_IPS = new Set(["127.0.0.1", "[::1]"]);

/**
 * The registered URI that the presented one matches. RFC 9700 §2.1: exact
 * string comparison. The one exception (RFC 8252 §7.3) is for native apps,
 * which are public clients: on a loopback IP literal over http, the port is
 * chosen at run time and may differ, and nothing else may: the presented
 * string must be the registered one with only its port put in or changed,
 * character for character, so nothing a URL parser would normalise (user
 * information, dot segments, numeric IPv4 forms, stray whitespace) can pass.
 */
export function matchRedirectUri(
  registered: readonly string[],
  presented: string,
  options: { loopbackAnyPort: boolean },
): string | undefined {
  if (registered.includes(presented)) return presented;
  if (!options.loopbackAnyPort) return undefined;
  let url: URL;
  try {
    url = new URL(presented);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" || !LOOPBACK_IPS.has(url.hostname)) return undefined;
  for (const candidate of registered) {
    let reg: URL;
    try {
      reg = new URL(candidate);
    } catch {
      continue;
    }
    const origin = `http://${reg.host}`;
    if (reg.protocol !== "http:" || reg.hostname !== url.hostname || !candidate.startsWith(origin))
      continue;
    const port = url.port ? `:${url.port}` : "";
    if (presented === `http://${reg.hostname}${port}${candidate.slice(origin.length)}`) {
      return candidate;
    }
  }
  return undefined;
}
