/** Loopback host names as URL.hostname gives them (RFC 8252 §7.3; RFC 6761 §6.3 for localhost). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether a URL is served from this machine (local development: no Secure cookies there). */
export const isLoopbackUrl = (url: string): boolean => LOOPBACK_HOSTS.has(new URL(url).hostname);
