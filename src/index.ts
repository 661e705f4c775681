import { WorkerEntrypoint } from "cloudflare:workers";
import { createApp } from "./app";
import { PATHS } from "./paths";

export { Administrators } from "./administrators/administrators";
export { ClientDirectory } from "./clients/directory";
export { ReplayGuard } from "./clients/replay-guard";
export { SecurityEvents } from "./events/store";
export { TokenFamily } from "./families/token-family";
export { LogoutDelivery } from "./sessions/logout-delivery";
export { SigningKeys } from "./tokens/signing-keys";
export { UserDirectory } from "./users/directory";
export { User } from "./users/user";
export { Username } from "./users/username";

const app = createApp();

/** RFC 7662 §2.2's answer, or the endpoint's refusal (RFC 6749 §5.2). */
type IntrospectionAnswer =
  | { active: boolean; [claim: string]: unknown }
  | { error: string; error_description: string };

export default app;

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before the Basic encoding. */
function basic(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  const bytes = new TextEncoder().encode(`${enc(clientId)}:${enc(clientSecret)}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/**
 * Token introspection (RFC 7662) by RPC, for a resource server on Workers in
 * the same account: a service binding with `entrypoint = "Introspection"`,
 * which the resource-server module takes as `introspection.binding`
 * (README, "Protecting an API on Workers"). It saves the caller the HTTP
 * request, the form and the JSON, not the checks: the call goes through the
 * very /introspect endpoint, as its steps run for an HTTP request (the
 * caller authenticated by its client_id and secret as `client_secret_basic`
 * would, failures counted and audited, the same answer for the same
 * client), so there is one introspection, not two to keep in step.
 *
 * A refused call (a wrong secret, the limit on failed authentications)
 * answers the endpoint's error instead (`{ error, error_description }`, no
 * `active`), which the module turns into a 503: it fails closed. (A client
 * that may not see a token is answered `{ active: false }`, as over HTTP.)
 * Failed authentications are
 * counted per calling client_id (an RPC has no client address; one
 * misconfigured resource server must not hold back the others).
 */
export class Introspection extends WorkerEntrypoint<Env> {
  async introspect(
    token: string,
    client: { clientId: string; clientSecret: string },
  ): Promise<IntrospectionAnswer> {
    // Under `npm run dev` without ISSUER the issuer is the request's origin: a loopback one here.
    const origin = this.env.ISSUER || "http://localhost";
    const res = await app.fetch(
      new Request(new URL(PATHS.introspection, origin), {
        method: "POST",
        headers: {
          Authorization: basic(client.clientId, client.clientSecret),
          "Content-Type": "application/x-www-form-urlencoded",
          "CF-Connecting-IP": `rpc:${encodeURIComponent(client.clientId)}`,
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
      }),
      this.env,
      this.ctx,
    );
    const answer = (await res.json()) as Record<string, unknown>;
    if (res.status === 200 && typeof answer.active === "boolean") {
      return answer as IntrospectionAnswer;
    }
    return {
      error: typeof answer.error === "string" ? answer.error : "server_error",
      error_description:
        typeof answer.error_description === "string" ? answer.error_description : "",
    };
  }
}
