import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { IsolateCache } from "../lib/isolate-cache";
import { LOOPBACK_HOSTS } from "../lib/loopback";
import type { ClientRecord } from "./model";
import { clientRecord } from "./provisioning";
import { validateRegistration } from "./registration";

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
 * a client whose client_id is an https URL is registered nowhere; the
 * document at that URL describes it, and is fetched when the client shows up
 * (at /authorize, and at the token endpoint).
 *
 * The document is read through the same rules as a client registering itself
 * with open registration (src/clients/registration.ts): consent always
 * asked, never resource_server, never client_credentials (no one vouched for
 * it and no user is present), no administrator-only settings.
 */

/**
 * Bounds on one fetch. 5 KB is several times what a client with a few
 * redirect URIs and a key needs; three seconds keeps a slow host from
 * holding the user's browser.
 */
export const METADATA_DOCUMENT_LIMITS = {
  maxBytes: 5 * 1024,
  timeoutMs: 3000,
  /** Draft §4.2: the AS "MAY define its own upper and/or lower bounds on an acceptable cache lifetime". */
  minCacheSeconds: 60,
  maxCacheSeconds: 86_400,
  /** Enough for the clients a location serves; only valid documents are kept. */
  cacheEntries: 500,
  maxUrlLength: 2000,
} as const;

/**
 * Draft §7.1: "it SHOULD ensure that the client_id strings it generates do
 * not start with https://". Ours cannot (src/clients/registry.ts CLIENT_ID
 * has no ':' or '/'), so the prefix alone says which kind of client this is.
 */
export const isClientIdUrl = (clientId: string): boolean => clientId.startsWith("https://");

/**
 * Draft §2, a Client Identifier URL: "MUST use the https URL scheme; MUST
 * NOT contain a userinfo component; MAY contain a port; MUST contain a path
 * component; MUST NOT contain single-dot or double-dot path components;
 * SHOULD NOT contain a query component; MUST NOT contain a fragment
 * component". We refuse a query too (the SHOULD NOT, as a rule), and a path
 * of only `/` (NOT RECOMMENDED). Returns why the URL is refused, if it is.
 */
export function clientIdUrlProblem(clientId: string, allowLoopback: boolean): string | undefined {
  if (clientId.length > METADATA_DOCUMENT_LIMITS.maxUrlLength) return "is too long";
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:") return "must use https";
  if (clientId.includes("@") || url.username || url.password) return "must not contain userinfo";
  if (clientId.includes("#")) return "must not contain a fragment";
  if (clientId.includes("?")) return "must not contain a query";
  const path = clientId.slice(clientId.indexOf("/", "https://".length));
  if (!clientId.slice("https://".length).includes("/") || path === "/")
    return "must have a path beyond /";
  if (path.split("/").some((s) => s === "." || s === ".." || /^(%2e|\.){1,2}$/i.test(s)))
    return "must not contain dot segments";
  // Draft §6.5 (SSRF): never fetch a host of the AS's own network. A Worker's
  // fetch reaches only the public internet, so names are safe to try; what
  // is refused is an address literal or name that means this machine or a
  // private network (allowed only in development, for a local client).
  if (!allowLoopback && isPrivateHost(url.hostname)) return "names a private or loopback host";
  return undefined;
}

function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (
    LOOPBACK_HOSTS.has(host) ||
    host === "::1" ||
    host === "localhost" ||
    host.endsWith(".localhost")
  )
    return true;
  if (host.endsWith(".local") || host.endsWith(".internal") || host.endsWith(".home.arpa"))
    return true;
  if (host.includes(":")) return true; // IPv6 literals: the documents live at names
  const octets = host.split(".").map(Number);
  if (octets.length === 4 && octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255)) {
    return true; // IPv4 literals likewise (private, loopback, link-local or not)
  }
  return false;
}

/** Fetches go through this binding when it is there (the tests' stand-in host), else to the internet. */
type FetchEnv = Env & { CLIENT_METADATA_FETCHER?: Fetcher };

const documents = new IsolateCache<Readonly<ClientRecord>>(METADATA_DOCUMENT_LIMITS.cacheEntries);

/**
 * The client a metadata document describes, from this isolate's cache while
 * the document's HTTP freshness lasts (clamped to 60 s .. 24 h), else
 * fetched. Draft §4.2: "MUST NOT cache error responses ... MUST NOT cache
 * documents which are invalid or malformed": only a valid one is kept.
 * Throws invalid_client with what was wrong (draft §4.1: "the authorization
 * server SHOULD abort the authorization request").
 */
export async function metadataDocumentClient(
  env: Env,
  config: ProviderConfig,
  clientId: string,
): Promise<Readonly<ClientRecord>> {
  const problem = clientIdUrlProblem(clientId, config.development);
  if (problem) throw refused(`The client_id URL ${problem}.`);
  const cached = documents.get(clientId);
  if (cached) return cached;
  const { body, maxAge } = await fetchDocument(env as FetchEnv, clientId);
  const client = Object.freeze(await readDocument(body, clientId, config));
  documents.set(clientId, client, Date.now() + maxAge * 1000);
  return client;
}

/**
 * RFC 6749 §4.1.2.1: an invalid client_id is told to the user, never
 * redirected (the page shows it). 400, not 401: no Authorization header was
 * tried (§5.2 asks 401 only then), and the page is not a challenge.
 */
const refused = (description: string) =>
  new OAuthError("invalid_client", `The client metadata document cannot be used: ${description}`, {
    status: 400,
  });

async function fetchDocument(
  env: FetchEnv,
  url: string,
): Promise<{ body: unknown; maxAge: number }> {
  let response: Response;
  try {
    const request = new Request(url, {
      headers: { Accept: "application/json" },
      // Draft §4: "The authorization server MUST NOT automatically follow HTTP redirects".
      redirect: "manual",
      signal: AbortSignal.timeout(METADATA_DOCUMENT_LIMITS.timeoutMs),
    });
    response = await (env.CLIENT_METADATA_FETCHER ?? globalThis).fetch(request);
  } catch {
    throw refused("its host did not answer in time.");
  }
  try {
    // Draft §4: "MUST be served with a 200 OK HTTP status code. The
    // authorization server MUST treat all other HTTP status codes as an error".
    if (response.status >= 300 && response.status < 400)
      throw refused(`its URL redirects (HTTP ${response.status}), and redirects are not followed.`);
    if (response.status !== 200) throw refused(`its URL answered HTTP ${response.status}.`);
    // Draft §3: application/json, or "application/<AS-defined>+json".
    const type = (response.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type ?? ""))
      throw refused("it is not served as application/json.");
    const text = await boundedText(response, METADATA_DOCUMENT_LIMITS.maxBytes);
    if (text === undefined)
      throw refused(`it is larger than ${METADATA_DOCUMENT_LIMITS.maxBytes} bytes.`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw refused("it is not valid JSON.");
    }
    return { body, maxAge: freshness(response.headers) };
  } finally {
    if (!response.bodyUsed) await response.body?.cancel().catch(() => undefined);
  }
}

/** The body as text, or undefined when it is longer than `max` bytes (read no further than that). */
async function boundedText(response: Response, max: number): Promise<string | undefined> {
  const declared = Number(response.headers.get("Content-Length"));
  if (Number.isFinite(declared) && declared > max) return undefined;
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Draft §4.2: "SHOULD respect HTTP cache headers [RFC9111]". Cache-Control
 * max-age (no-store and no-cache as 0), else Expires, else nothing said; then
 * clamped to the floor and the ceiling, so a document is fetched at most
 * once a minute per isolate and is never trusted for more than a day.
 */
export function freshness(headers: Headers, now = Date.now()): number {
  const { minCacheSeconds: floor, maxCacheSeconds: ceiling } = METADATA_DOCUMENT_LIMITS;
  const control = (headers.get("Cache-Control") ?? "").toLowerCase();
  let seconds: number | undefined;
  if (/(^|[,\s])(no-store|no-cache)\b/.test(control)) seconds = 0;
  else {
    const maxAge = /(?:^|[,\s])max-age=(\d+)/.exec(control)?.[1];
    if (maxAge !== undefined) seconds = Number(maxAge);
    else {
      const expires = Date.parse(headers.get("Expires") ?? "");
      if (Number.isFinite(expires)) seconds = Math.floor((expires - now) / 1000);
    }
  }
  return Math.min(ceiling, Math.max(floor, seconds ?? floor));
}

/** The shared-secret methods draft §3.1 rules out, and what a document may use instead. */
const DOCUMENT_METHODS = ["none", "private_key_jwt"];

/**
 * Draft §3: "MUST contain a client_id property whose value MUST match the
 * Client Identifier URL ... using simple string comparison". Draft §3.1:
 * "token_endpoint_auth_method property MUST NOT include client_secret_post,
 * client_secret_basic, client_secret_jwt ..."; "the client_secret and
 * client_secret_expires_at properties MUST NOT be used"; "private key
 * material MUST NOT be included" (the shared jwks validation refuses it).
 * jwks_uri is not fetched: keys by value only, as for self-registration.
 * A document without token_endpoint_auth_method is a public client (`none`):
 * RFC 7591's default, client_secret_basic, cannot apply to a document.
 */
async function readDocument(
  body: unknown,
  url: string,
  config: ProviderConfig,
): Promise<ClientRecord> {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw refused("it is not a JSON object.");
  const { client_id, client_secret, client_secret_expires_at, ...metadata } = body as Record<
    string,
    unknown
  >;
  if (client_id !== url) throw refused("its client_id is not exactly the URL it was fetched from.");
  if (client_secret !== undefined || client_secret_expires_at !== undefined)
    throw refused("it contains a client_secret, which a metadata document must not.");
  const method = metadata.token_endpoint_auth_method ?? "none";
  if (typeof method !== "string" || !DOCUMENT_METHODS.includes(method))
    throw refused("its token_endpoint_auth_method must be none or private_key_jwt.");
  if (!Array.isArray(metadata.redirect_uris) || metadata.redirect_uris.length === 0)
    throw refused("it has no redirect_uris.");
  const known = Object.fromEntries(
    // A document need not name itself; the page then shows its host.
    Object.entries({
      client_name: new URL(url).host,
      ...metadata,
      token_endpoint_auth_method: method,
    }).filter(([name]) => DOCUMENT_FIELDS.has(name)),
  );
  let registration: ReturnType<typeof validateRegistration>;
  try {
    registration = validateRegistration(known, config, "open");
  } catch (error) {
    if (error instanceof OAuthError) throw refused(error.description);
    throw error;
  }
  const { draft } = registration;
  const credential =
    draft.method === "private_key_jwt"
      ? { method: "private_key_jwt" as const, jwks: draft.jwks }
      : { method: "none" as const };
  const now = Math.floor(Date.now() / 1000);
  return clientRecord(
    draft,
    url,
    credential,
    { createdAt: now, updatedAt: now },
    { ...registration.registration, via: "metadata_document" },
  );
}

/**
 * The RFC 7591 metadata a document may carry and we read; anything else is
 * ignored (RFC 7591 §2: "MUST ignore any client metadata sent by the client
 * that it does not understand"), so a document written for many servers
 * works here too.
 */
const DOCUMENT_FIELDS = new Set([
  "client_name",
  "token_endpoint_auth_method",
  "redirect_uris",
  "grant_types",
  "response_types",
  "scope",
  "jwks",
  "id_token_signed_response_alg",
  "dpop_bound_access_tokens",
  "client_uri",
  "logo_uri",
  "tos_uri",
  "policy_uri",
  "contacts",
  "software_id",
  "software_version",
]);
