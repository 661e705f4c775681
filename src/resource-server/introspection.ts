import type { FetchLike } from "./access-token";
import { sha256Base64Url } from "./dpop-proof";

/**
 * Optional revocation check: RFC 7662 introspection at the authorization
 * server, as a client registered with `resource_server: true` (which may
 * introspect any client's tokens). A signature check alone cannot see a
 * revoked grant; this can, at the cost of a round trip per token per
 * `cacheSeconds`.
 */
export interface IntrospectionOptions {
  /** The introspection endpoint's URL. */
  url: string;
  clientId: string;
  clientSecret: string;
  /** How to reach it (a service binding's fetch); the global fetch if absent. */
  fetch?: FetchLike;
  /**
   * For a Worker in the same account: a service binding to the
   * authorization server's `Introspection` entrypoint (`[[services]] binding
   * = "INTROSPECTION", service = "edge-token-service", entrypoint =
   * "Introspection"`). Introspection then is one RPC call, not an HTTP
   * request: no form to encode, no JSON to parse, no URL. `url` and `fetch`
   * are not used for it.
   */
  binding?: IntrospectionBinding;
  /**
   * How long one token's "active" answer is reused in this isolate (s); a
   * token revoked meanwhile is accepted at most this long. Default 5, at most 60.
   */
  cacheSeconds?: number;
}

/**
 * What the resource server needs of the authorization server's
 * `Introspection` entrypoint (src/index.ts): RFC 7662's answer for a token,
 * asked as the client with that id and secret, exactly as /introspect
 * would answer it, or the endpoint's refusal (`error`, no `active`). A
 * refusal, a rejection or an answer without a boolean `active` fails closed.
 */
export interface IntrospectionBinding {
  introspect(
    token: string,
    client: { clientId: string; clientSecret: string },
  ): Promise<{ active?: boolean; [claim: string]: unknown }>;
}

export type Liveness = "active" | "inactive" | "unknown";

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  const bytes = new TextEncoder().encode(`${enc(id)}:${enc(secret)}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

const MAX_CACHED = 5_000;

export class Introspector {
  /** Answers by hash of the token (never the token itself), with their expiry (ms). */
  private readonly answers = new Map<string, { live: boolean; until: number }>();
  private readonly cacheMs: number;

  constructor(private readonly options: IntrospectionOptions) {
    this.cacheMs = Math.min(Math.max(options.cacheSeconds ?? 5, 0), 60) * 1000;
  }

  /** Whether the authorization server still calls this token active. */
  async liveness(token: string, tokenExp: number): Promise<Liveness> {
    const key = await sha256Base64Url(token);
    const now = Date.now();
    const cached = this.answers.get(key);
    if (cached && cached.until > now) return cached.live ? "active" : "inactive";
    let active: unknown;
    try {
      active = this.options.binding ? await this.askByRpc(token) : await this.askByHttp(token);
    } catch {
      return "unknown";
    }
    if (typeof active !== "boolean") return "unknown";
    if (this.answers.size >= MAX_CACHED) this.answers.clear();
    // An inactive token never becomes active again: remember that until it expires.
    const until = active ? now + this.cacheMs : tokenExp * 1000;
    if (this.cacheMs > 0 || !active) this.answers.set(key, { live: active, until });
    return active ? "active" : "inactive";
  }

  private async askByRpc(token: string): Promise<unknown> {
    const { clientId, clientSecret, binding } = this.options;
    return (await binding?.introspect(token, { clientId, clientSecret }))?.active;
  }

  /** RFC 7662 §2.1, as the client (Basic), at the endpoint's URL; undefined when not answered. */
  private async askByHttp(token: string): Promise<unknown> {
    const res = await (this.options.fetch ?? fetch)(
      new Request(this.options.url, {
        method: "POST",
        headers: {
          Authorization: basic(this.options.clientId, this.options.clientSecret),
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
      }),
    );
    if (!res.ok) return undefined;
    return ((await res.json()) as { active?: unknown }).active;
  }
}
