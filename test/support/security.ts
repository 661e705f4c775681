import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { TokenFamily } from "../../src/families/token-family";
import { Browser, pkce, signInAndAuthorize } from "./browser";
import { call, DESCRIPTION_CHARSET } from "./http";
import { familyIdOf, grantWithRefresh } from "./refresh";

/**
 * Helpers for the security tests (bad input, properties, races, faults):
 * what a refusal must look like, and how to see that nothing changed.
 */

/** RFC 6749 §5.2: what the token endpoint may answer when it refuses. */
export const TOKEN_ERRORS = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
] as const;

/** RFC 7009 §2.2.1: the revocation endpoint's refusals (its client errors are RFC 6749 §5.2's). */
export const REVOCATION_ERRORS = [
  "invalid_request",
  "invalid_client",
  "unsupported_token_type",
] as const;

/** RFC 7662 §2.3: introspection refuses only malformed or unauthenticated requests. */
export const INTROSPECTION_ERRORS = ["invalid_request", "invalid_client"] as const;

export interface ErrorBody {
  error: string;
  error_description: string;
}

/**
 * Reads a JSON error response and checks its shape: the status, `{error,
 * error_description}` and nothing else, JSON, not cacheable, and none of
 * `secrets` anywhere in it.
 */
export async function expectJsonError(
  res: Response,
  status: number,
  error: string,
  secrets: readonly string[] = [],
): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
  expect(body.error, text).toBe(error);
  expect(typeof body.error_description).toBe("string");
  expect(body.error_description.length).toBeGreaterThan(0);
  expect(body.error_description, "RFC 6749 section 5.2 character set").toMatch(DESCRIPTION_CHARSET);
  expectNoSecrets(text, secrets);
  for (const [, value] of res.headers) expectNoSecrets(value, secrets);
  return body;
}

/** An HTML error page: the status, HTML, no redirect, no stack trace, no secret. */
export async function expectErrorPage(
  res: Response,
  status: number,
  secrets: readonly string[] = [],
): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("location")).toBeNull();
  expect(html).not.toMatch(/\bat .*\.(ts|tsx|js):\d+/);
  expectNoSecrets(html, secrets);
  return html;
}

/** RFC 6749 §4.1.2.1: an error sent back to the client's redirect URI, with state and iss. */
export function expectErrorRedirect(
  res: Response,
  redirectUri: string,
  error: string,
  state?: string,
): URL {
  expect([302, 303]).toContain(res.status);
  const location = new URL(res.headers.get("location") as string);
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  expect(location.searchParams.get("error")).toBe(error);
  expect(location.searchParams.get("error_description")).toMatch(DESCRIPTION_CHARSET);
  expect(location.searchParams.get("code")).toBeNull();
  expect(location.searchParams.get("state")).toBe(state ?? null);
  return location;
}

/**
 * None of the secrets appears in `text`: not whole, and not any 24-character
 * piece of one. For a JWT only its signature is cut into pieces: its header
 * and claims are public (the same client_id, base64url-encoded, may appear
 * elsewhere), its signature is what makes it a credential.
 */
export function expectNoSecrets(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (!secret) continue;
    expect(text.includes(secret), "a secret leaked into a response").toBe(false);
    const jwt = /^eyJ[\w-]*\.[\w-]*\.([\w-]+)$/.exec(secret);
    const secretPart = jwt ? (jwt[1] as string) : secret;
    for (let i = 0; i + 24 <= secretPart.length; i += 12) {
      const piece = secretPart.slice(i, i + 24);
      expect(text.includes(piece), "part of a secret leaked into a response").toBe(false);
    }
  }
}

/** The TokenFamily Durable Object of a family id. */
export const familyStub = (familyId: string): DurableObjectStub<TokenFamily> =>
  env.TOKEN_FAMILY.get(env.TOKEN_FAMILY.idFromString(familyId));

/** Everything a family's Durable Object keeps (every key and its alarm), as one string. */
export function familySnapshot(familyId: string): Promise<string> {
  return runInDurableObject(familyStub(familyId), async (_instance, state) =>
    JSON.stringify({
      entries: [...state.storage.kv.list()],
      alarm: await state.storage.getAlarm(),
    }),
  );
}

const ORIGINAL_WRITES = Symbol("original storage writes");
type PatchableKv = SyncKvStorage & {
  [ORIGINAL_WRITES]?: Pick<SyncKvStorage, "put" | "delete">;
};

/**
 * Fault injection from the test side, no hook in src: from now on every write
 * to this Durable Object instance's storage (`storage.kv.put`, `delete`) is
 * applied and then throws, inside the transaction that made it. An operation
 * that is one transaction must then leave storage exactly as it was. Only the
 * running, in-memory instance is patched: `restoreWrites`, or the instance
 * being evicted or aborted, ends it.
 */
export function failAfterWrites(stub: DurableObjectStub): Promise<void> {
  return runInDurableObject(stub, (_instance, state) => {
    const kv: PatchableKv = state.storage.kv;
    if (kv[ORIGINAL_WRITES]) return;
    const original = { put: kv.put, delete: kv.delete };
    kv[ORIGINAL_WRITES] = original;
    kv.put = (key: string, value: unknown) => {
      original.put.call(kv, key, value);
      throw new Error(`injected fault after writing ${key}`);
    };
    kv.delete = (key: string) => {
      original.delete.call(kv, key);
      throw new Error(`injected fault after deleting ${key}`);
    };
  });
}

/** Ends `failAfterWrites` on this instance. */
export function restoreWrites(stub: DurableObjectStub): Promise<void> {
  return runInDurableObject(stub, (_instance, state) => {
    const kv: PatchableKv = state.storage.kv;
    const original = kv[ORIGINAL_WRITES];
    if (!original) return;
    Object.assign(kv, original);
    delete kv[ORIGINAL_WRITES];
  });
}

/** Every key of the KV revocation lists, with its value. */
export async function revocationEntries(): Promise<string> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.REVOCATIONS.list(cursor ? { cursor } : {});
    keys.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  const values = await Promise.all(keys.map((k) => env.REVOCATIONS.get(k)));
  return JSON.stringify(keys.map((k, i) => [k, values[i]]));
}

/** What "the service's state" means to the bad-input tests: the families named, and the revocation lists. */
export async function stateOf(familyIds: readonly string[]): Promise<string> {
  const families = await Promise.all(familyIds.map(familySnapshot));
  return JSON.stringify({ families, revocations: await revocationEntries() });
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same character position with another base64url character. */
export function flipAt(token: string, index: number): string {
  const i = index < 0 ? token.length + index : index;
  const ch = token[i] as string;
  const next = B64URL[(B64URL.indexOf(ch) + 1) % B64URL.length] as string;
  return token.slice(0, i) + next + token.slice(i + 1);
}

/** The last character re-spelled so that it decodes to the same bytes (unused low bits set). */
export function nonCanonical(token: string): string {
  const last = token.at(-1) as string;
  const value = B64URL.indexOf(last);
  // 52 bytes take 70 characters, the last with 4 unused low bits: flipping the lowest keeps the bytes.
  return token.slice(0, -1) + (B64URL[value ^ 1] as string);
}

/** A refresh token with its generation counter raised by one, the tag left as it was. */
export function bumpGeneration(token: string): string {
  const [prefix, familyId, payload] = token.split(".") as [string, string, string];
  const bytes = Uint8Array.from(
    atob(
      payload.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (payload.length % 4)) % 4),
    ),
    (c) => c.charCodeAt(0),
  );
  const view = new DataView(bytes.buffer);
  view.setUint32(0, view.getUint32(0) + 1);
  const encoded = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${prefix}.${familyId}.${encoded}`;
}

/** A KV namespace that cannot be read or written: an outage, injected into our own binding object. */
export function unreachableKv(): KVNamespace {
  const fail = () => Promise.reject(new Error("KV is unreachable (injected by the test)"));
  return {
    get: fail,
    getWithMetadata: fail,
    put: fail,
    delete: fail,
    list: fail,
  } as unknown as KVNamespace;
}

/** POST with a raw body and headers, exactly as given (no encoding by the helper). */
export function rawPost(
  path: string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(path, { method: "POST", headers, body });
}

/** A body that arrives as a stream, so no Content-Length tells its size in advance. */
export function streamed(bytes: Uint8Array, chunk = 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** Every line the service logs while `run` runs (console.log, warn, error). */
export async function capturingLogs<T>(
  run: () => Promise<T>,
): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const spies = (["log", "warn", "error", "info", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
  try {
    return { result: await run(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/**
 * What the security tests attack: a live grant whose client has no grace
 * window (so any replay would revoke it), and an unredeemed code of the same
 * user and client with its PKCE verifier.
 */
export async function grantAndPendingCode(scope?: string) {
  const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), grant.client, grant.user, {
    challenge,
    ...(scope ? { scope } : {}),
  });
  const code = redirect.searchParams.get("code") as string;
  return { grant, code, verifier, codeFamily: familyIdOf(code) };
}
