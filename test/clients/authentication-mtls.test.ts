import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readClient, saveClient } from "../../src/clients/registry";
import { registerClient, registerPublicClient } from "../support/fixtures";
import { basic, DESCRIPTION_CHARSET, json, postForm } from "../support/http";
import {
  CERTIFICATES,
  certificateJwks,
  cnfOf,
  mtlsPost,
  registerSelfSignedClient,
  registerTlsClient,
  type TestCertificate,
  x5tOf,
} from "../support/mtls";

/**
 * Mutual-TLS client authentication (RFC 8705 §2), from what Cloudflare's
 * edge reports of the TLS client certificate. §2: "If no certificate is
 * presented, or that which is presented doesn't match that which is expected
 * for the given client_id, the authorization server returns ... the
 * invalid_client error code".
 */

const { payments, payments2, billing, app1, app2 } = CERTIFICATES;

const clientCredentials = (
  clientId: string,
  certificate: TestCertificate | undefined,
  cf: Record<string, string> = {},
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) =>
  mtlsPost(
    "/token",
    { grant_type: "client_credentials", client_id: clientId, ...extra },
    certificate,
    { cf, headers },
  );

async function expectToken(res: Response, certificate: TestCertificate): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await json<{ access_token: string; token_type: string }>(res);
  // RFC 8705 §3: the token is bound to the certificate the client authenticated with.
  expect(cnfOf(body.access_token)).toEqual({ "x5t#S256": await x5tOf(certificate) });
  expect(body.token_type).toBe("Bearer");
}

async function expectInvalidClient(res: Response, description?: RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(401);
  const body = JSON.parse(text) as { error: string; error_description: string };
  expect(body.error).toBe("invalid_client");
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  if (description) expect(body.error_description).toMatch(description);
  expect(res.headers.get("www-authenticate")).toBeNull();
}

describe("tls_client_auth: a CA-issued certificate with the registered subject (RFC 8705 §2.1)", () => {
  it("authenticates the client, and binds its access token to the certificate", async () => {
    const client = await registerTlsClient();
    await expectToken(await clientCredentials(client.client_id, payments), payments);
  });

  it("matches the subject as distinguishedNameMatch does, however the DN was written at registration", async () => {
    const client = await registerTlsClient({
      tls_client_auth_subject_dn:
        "cn=Payments.Example.com, ou=payments, o=Example Corp\\2C Inc., c=de",
    });
    await expectToken(await clientCredentials(client.client_id, payments), payments);
  });

  it("accepts a renewed certificate with the same subject, with no change at the server", async () => {
    // §2.1: "Clients can rotate their X.509 certificates without the need to
    // modify the respective authentication data at the authorization server".
    const client = await registerTlsClient();
    await expectToken(await clientCredentials(client.client_id, payments2), payments2);
  });

  it("refuses a request with no certificate, or that did not come through the edge", async () => {
    const client = await registerTlsClient();
    await expectInvalidClient(await clientCredentials(client.client_id, undefined));
    const withoutCf = await postForm("/token", {
      grant_type: "client_credentials",
      client_id: client.client_id,
    });
    await expectInvalidClient(withoutCf);
  });

  it("refuses a certificate whose chain did not verify, even with the registered subject", async () => {
    const client = await registerTlsClient();
    for (const certVerified of [
      "FAILED:unable to verify the first certificate",
      "FAILED:certificate has expired",
      "FAILED",
    ]) {
      await expectInvalidClient(
        await clientCredentials(client.client_id, payments, { certVerified }),
        /does not chain to a certificate authority/,
      );
    }
  });

  it("refuses a self-signed certificate that claims the registered subject", async () => {
    // Anyone can make a certificate with any subject; only the zone's CA makes it count.
    const client = await registerTlsClient();
    const forged: TestCertificate = { ...app1, subjectDn: payments.subjectDn };
    await expectInvalidClient(
      await clientCredentials(client.client_id, forged),
      /does not chain to a certificate authority/,
    );
  });

  it("refuses a verified certificate of another subject", async () => {
    const client = await registerTlsClient();
    await expectInvalidClient(
      await clientCredentials(client.client_id, billing),
      /subject does not match/,
    );
  });

  it("refuses a certificate Cloudflare reports revoked", async () => {
    const client = await registerTlsClient();
    await expectInvalidClient(
      await clientCredentials(client.client_id, payments, { certRevoked: "1" }),
    );
  });

  it("refuses a certificate together with a secret: one request, one method", async () => {
    const client = await registerTlsClient();
    await expectInvalidClient(
      await clientCredentials(client.client_id, payments, {}, { client_secret: "anything" }),
    );
    const res = await clientCredentials(
      client.client_id,
      payments,
      {},
      {},
      {
        Authorization: basic(client.client_id, "anything"),
      },
    );
    expect(res.status).toBe(401);
    expect((await json(res)).error).toBe("invalid_client");
  });

  it("never takes the subject or fingerprint from request headers", async () => {
    const client = await registerTlsClient();
    const headers = {
      "X-SSL-Client-S-DN": payments.subjectDn,
      "X-SSL-Client-Verify": "SUCCESS",
      "Client-Cert": `:${payments.der}:`,
    };
    await expectInvalidClient(
      await clientCredentials(client.client_id, undefined, {}, {}, headers),
    );
  });

  it("authenticates at the revocation and introspection endpoints too (RFC 8705 §1)", async () => {
    const client = await registerTlsClient({ resource_server: true });
    const token = await json<{ access_token: string }>(
      await clientCredentials(client.client_id, payments),
    );
    const introspected = await mtlsPost(
      "/introspect",
      { token: token.access_token, client_id: client.client_id },
      payments,
    );
    expect(introspected.status).toBe(200);
    expect(await json(introspected)).toMatchObject({ active: true });
    await expectInvalidClient(
      await mtlsPost(
        "/introspect",
        { token: token.access_token, client_id: client.client_id },
        undefined,
      ),
    );
    await expectInvalidClient(
      await mtlsPost(
        "/revoke",
        { token: token.access_token, client_id: client.client_id },
        billing,
      ),
    );
    const revoked = await mtlsPost(
      "/revoke",
      { token: token.access_token, client_id: client.client_id },
      payments,
    );
    expect(revoked.status).toBe(200);
  });
});

describe("self_signed_tls_client_auth: one of the registered certificates (RFC 8705 §2.2)", () => {
  it("authenticates with any registered certificate, its chain unverified", async () => {
    const client = await registerSelfSignedClient([app1, app2]);
    await expectToken(await clientCredentials(client.client_id, app1), app1);
    await expectToken(await clientCredentials(client.client_id, app2), app2);
  });

  it("refuses a certificate that is not registered, even one a trusted CA issued", async () => {
    const client = await registerSelfSignedClient([app1]);
    await expectInvalidClient(
      await clientCredentials(client.client_id, app2),
      /not one of the client's registered certificates/,
    );
    await expectInvalidClient(await clientCredentials(client.client_id, payments));
  });

  it("refuses a request with no certificate, or a revoked one", async () => {
    const client = await registerSelfSignedClient([app1]);
    await expectInvalidClient(await clientCredentials(client.client_id, undefined));
    await expectInvalidClient(
      await clientCredentials(client.client_id, app1, { certRevoked: "1" }),
    );
  });

  it("counts only each key's own certificate, never the rest of its x5c chain", async () => {
    const { keys } = await certificateJwks(app1);
    const client = await registerSelfSignedClient([], {
      jwks: { keys: [{ ...keys[0], x5c: [app1.der, app2.der] }] },
    });
    await expectToken(await clientCredentials(client.client_id, app1), app1);
    await expectInvalidClient(await clientCredentials(client.client_id, app2));
  });

  it("is refused to a client registered for another method, certificate or not", async () => {
    const secretClient = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read",
    });
    await expectInvalidClient(
      await clientCredentials(secretClient.client_id, app1),
      /not registered for/,
    );
  });
});

describe("introspection and public clients (RFC 7662 §2.1)", () => {
  it("refuses a public client, with or without a certificate", async () => {
    const client = await registerPublicClient();
    for (const certificate of [undefined, app1]) {
      await expectInvalidClient(
        await mtlsPost("/introspect", { token: "x", client_id: client.client_id }, certificate),
        /Introspection needs a client that authenticates/,
      );
    }
  });
});

describe("a stored mutual-TLS record missing its material (written by hand or by an older version)", () => {
  it.each([
    [
      "self_signed_tls_client_auth without thumbprints",
      { method: "self_signed_tls_client_auth", jwks: { keys: [] } },
    ],
    ["tls_client_auth without its subject", { method: "tls_client_auth" }],
  ])("%s authenticates nobody: 401 invalid_client, never a 500", async (_, credential) => {
    const client = await registerTlsClient();
    const stored = await readClient(env, client.client_id);
    expect(stored).toBeDefined();
    await saveClient(env, {
      ...(stored as NonNullable<typeof stored>),
      credential: credential as never,
    });
    const res = await mtlsPost(
      "/token",
      { grant_type: "client_credentials", client_id: client.client_id },
      CERTIFICATES.payments,
    );
    expect(res.status, await res.clone().text()).toBe(401);
    expect((await json(res)).error).toBe("invalid_client");
  });
});
