import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index";

/** Talks to the real Worker (workerd, local Durable Objects and KV) through its default export. */

export const ISSUER = "https://auth.example.test";
export const ADMIN_TOKEN = env.ADMIN_TOKEN as string;

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, ISSUER), init));
}

export function formBody(params: Record<string, string | undefined>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) body.append(name, value);
  return body.toString();
}

/** RFC 6749 §2.3.1: each half is form-urlencoded, then the pair base64-encoded. */
export function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  const bytes = new TextEncoder().encode(`${enc(clientId)}:${enc(secret)}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export function postForm(
  path: string,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: formBody(params),
  });
}

export function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
  return call(path, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/**
 * Calls the Worker's fetch handler directly, with some of its bindings or
 * vars replaced: the way to inject a fault into (or count the calls of) one of
 * our own bindings, or to run as another environment would.
 */
export async function fetchWith(
  overrides: Partial<Cloudflare.Env>,
  request: Request | string,
  init?: RequestInit,
): Promise<Response> {
  const ctx = createExecutionContext();
  const req = typeof request === "string" ? new Request(new URL(request, ISSUER), init) : request;
  const res = await worker.fetch(req, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** RFC 6749 §5.2: the characters an error_description may contain. */
export const DESCRIPTION_CHARSET = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Workers Rate Limiting counts in fixed windows aligned to the wall clock (so
 * does Miniflare's: the minute's epoch is `floor(now / 60 s)`), so a count that
 * starts near the end of a minute is cut in two, and a test that counts up to
 * a limit sees the count restart. Such a test waits here, before it begins,
 * until the current window has at least `seconds` left.
 */
export async function withinOneRateWindow(seconds = 20): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
