import { createMiddleware } from "hono/factory";
import { type Attempt, authenticateClient as verifyClient } from "../clients/authentication";
import type { ClientRecord } from "../clients/model";
import { LIMITS } from "../config";
import { OAuthError } from "../errors";
import type { GrantHandler } from "../grants/grant";
import { securityEvent } from "../log";
import { presentedCertificate } from "../mtls/certificate";
import type { Params } from "../params";
import { type ClientEndpoint, PATHS } from "../paths";
import type { StepEnv } from "./context";
import { readForm } from "./form";
import { endpointUrl } from "./origin";
import { clientAuthBlocked, noteClientAuthFailure, tooManyFailures } from "./rate-limits";

/**
 * The steps the OAuth endpoints share, as middleware factories (node-oidc-
 * provider's actions): each does one thing and leaves what it found in a
 * typed context variable for the steps after it.
 */

export type WithParams = { params: Params };
export type WithClient = WithParams & { client: ClientRecord };
/** The token endpoint's grant, chosen by `grant_type`. */
export type WithGrant = { grant: GrantHandler };

/** RFC 6749 §3.2: the body, strictly (one media type, UTF-8, no repeated parameter), as `params`. */
export const parseForm = () =>
  createMiddleware<StepEnv<WithParams>>(async (c, next) => {
    c.set("params", await readForm(c.req.raw, LIMITS.maxFormBytes));
    await next();
  });

/**
 * RFC 6749 §2.3 (and RFC 7009 §2.1, RFC 7662 §2.1, RFC 8705 §2): the calling
 * client, authenticated by the one method it registered, as `client`. A
 * client assertion may name this endpoint's URL as its audience (the alias,
 * when the request came there); a mutual-TLS client's credential is the TLS
 * client certificate Cloudflare reports.
 *
 * A failure is a security event, `client.auth_failed`, naming the endpoint,
 * and the client only if the client_id named a registered one: any other
 * client_id is whatever the caller typed (perhaps a secret in the wrong
 * field), so it is not written down.
 */
export const authenticateClient = (endpoint: ClientEndpoint) =>
  createMiddleware<StepEnv<WithClient>>(async (c, next) => {
    const config = c.get("config");
    if (clientAuthBlocked(c)) throw tooManyFailures();
    let client: ClientRecord;
    const attempt: Attempt = {};
    try {
      client = await verifyClient(
        {
          endpoint,
          env: c.env,
          config,
          request: c.req.raw,
          params: c.get("params"),
          endpointUrl: endpointUrl(config, c.req.url, PATHS[endpoint]),
          certificate: presentedCertificate(c.req.raw),
        },
        attempt,
      );
    } catch (error) {
      if (error instanceof OAuthError && error.code === "invalid_client") {
        const named = attempt.client
          ? { clientId: attempt.client.client_id }
          : { client: "unknown" };
        securityEvent("client.auth_failed", { endpoint, ...named });
        if (await noteClientAuthFailure(c)) throw tooManyFailures();
      }
      throw error;
    }
    c.set("client", client);
    await next();
  });
