import { describe, expect, it } from "vitest";
import { DpopKey, serverNonce, TOKEN_URL } from "../support/dpop";
import {
  clientAuth,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { DESCRIPTION_CHARSET, json } from "../support/http";
import {
  CERTIFICATES,
  cnfOf,
  mtlsCodeFlow,
  mtlsPost,
  type TestCertificate,
  x5tOf,
} from "../support/mtls";
import { storedFamily } from "../support/refresh";

/**
 * Certificate-bound tokens at the token endpoint (RFC 8705 §3, §4): an
 * access token is bound to the TLS client certificate its request came with,
 * whichever way the client authenticated; a public client's refresh tokens
 * are bound to the certificate that redeemed the code.
 */

const { payments, billing, app1, app2 } = CERTIFICATES;

type TokenBody = { access_token: string; token_type: string; refresh_token?: string };

/** A request to /token over mutual TLS with `certificate`, the client authenticating as it registered. */
function tokenRequest(
  client: RegisteredClient,
  params: Record<string, string>,
  certificate: TestCertificate | undefined,
  headers: Record<string, string> = {},
): Promise<Response> {
  const auth = clientAuth(client);
  return mtlsPost(
    "/token",
    { client_id: client.client_id, ...auth.params, ...params },
    certificate,
    { headers: { ...auth.headers, ...headers } },
  );
}

async function tokens(res: Response): Promise<TokenBody> {
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenBody>(res);
}

async function expectBoundTo(body: TokenBody, certificate: TestCertificate | undefined) {
  expect(cnfOf(body.access_token)).toEqual(
    certificate ? { "x5t#S256": await x5tOf(certificate) } : undefined,
  );
  expect(body.token_type).toBe("Bearer");
}

async function expectError(res: Response, error: string, status = 400): Promise<void> {
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(status);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
}

const refreshWith = (
  client: RegisteredClient,
  refreshToken: string,
  certificate?: TestCertificate,
) =>
  tokenRequest(client, { grant_type: "refresh_token", refresh_token: refreshToken }, certificate);

describe("access tokens bound to the request's certificate (RFC 8705 §3)", () => {
  it("binds the tokens of every grant, for a client that authenticates with a secret too", async () => {
    const client = await registerClient({
      consent: "implicit",
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    });
    const user = await registerUser();
    const auth = clientAuth(client);
    const code = await mtlsCodeFlow(client, user, payments, { headers: auth.headers });
    await expectBoundTo(code, payments);
    // Each token is bound to the certificate of its own request.
    const refreshed = await tokens(
      await refreshWith(client, code.refresh_token as string, billing),
    );
    await expectBoundTo(refreshed, billing);
    const machine = await tokens(
      await tokenRequest(client, { grant_type: "client_credentials" }, payments),
    );
    await expectBoundTo(machine, payments);
  });

  it("binds nothing when the request has no certificate", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], redirect_uris: [] });
    const body = await tokens(
      await tokenRequest(client, { grant_type: "client_credentials" }, undefined),
    );
    await expectBoundTo(body, undefined);
  });

  it("binds to both a DPoP key and the certificate when the request proves both", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], redirect_uris: [] });
    const key = await DpopKey.generate();
    const nonce = await serverNonce(client, key);
    const res = await tokenRequest(client, { grant_type: "client_credentials" }, payments, {
      DPoP: await key.proof("POST", TOKEN_URL, { nonce }),
    });
    const body = await tokens(res);
    expect(cnfOf(body.access_token)).toEqual({ jkt: key.jkt, "x5t#S256": await x5tOf(payments) });
    expect(body.token_type).toBe("DPoP");
  });

  it("refuses a client registered with tls_client_certificate_bound_access_tokens a request without a certificate (RFC 8705 §3.4)", async () => {
    const client = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      tls_client_certificate_bound_access_tokens: true,
    });
    await expectError(
      await tokenRequest(client, { grant_type: "client_credentials" }, undefined),
      "invalid_request",
    );
    await expectBoundTo(
      await tokens(await tokenRequest(client, { grant_type: "client_credentials" }, payments)),
      payments,
    );
  });
});

describe("a public client's refresh tokens bound to its certificate (RFC 8705 §4)", () => {
  async function publicGrant(fields: Record<string, unknown> = {}) {
    const client = await registerPublicClient({ consent: "implicit", ...fields });
    const body = await mtlsCodeFlow(client, await registerUser(), app1);
    await expectBoundTo(body, app1);
    return { client, refreshToken: body.refresh_token as string };
  }

  it("binds the family to the certificate that redeemed the code", async () => {
    const { refreshToken } = await publicGrant();
    expect(await storedFamily(refreshToken)).toMatchObject({ x5t: await x5tOf(app1) });
  });

  it("refuses a refresh without the certificate or with another, changing nothing", async () => {
    const { client, refreshToken } = await publicGrant();
    const before = await storedFamily(refreshToken);
    for (const certificate of [undefined, app2]) {
      await expectError(await refreshWith(client, refreshToken, certificate), "invalid_grant");
    }
    expect(await storedFamily(refreshToken)).toEqual(before);
    // The rightful holder's token still works, and its new access token is bound too.
    const refreshed = await tokens(await refreshWith(client, refreshToken, app1));
    await expectBoundTo(refreshed, app1);
    await tokens(await refreshWith(client, refreshed.refresh_token as string, app1));
  });

  it("gives a bound family's grace window only to a retry with the same certificate", async () => {
    const { client, refreshToken } = await publicGrant({ refresh_token: { grace_seconds: 30 } });
    const first = await tokens(await refreshWith(client, refreshToken, app1));
    const retry = await tokens(await refreshWith(client, refreshToken, app1));
    expect(retry.refresh_token).toBe(first.refresh_token);
    // Another certificate holding the previous token is someone else: reuse, and the family dies.
    await expectError(await refreshWith(client, refreshToken, app2), "invalid_grant");
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "revoked" });
    await expectError(
      await refreshWith(client, first.refresh_token as string, app1),
      "invalid_grant",
    );
  });

  it("does not bind a confidential client's refresh tokens, already bound to its authentication (RFC 8705 §7.1)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const auth = clientAuth(client);
    const body = await mtlsCodeFlow(client, await registerUser(), payments, {
      headers: auth.headers,
    });
    expect(await storedFamily(body.refresh_token as string)).not.toHaveProperty("x5t");
    await expectBoundTo(
      await tokens(await refreshWith(client, body.refresh_token as string)),
      undefined,
    );
  });
});
