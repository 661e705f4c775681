import { env } from "cloudflare:workers";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  assertionClaims,
  assertionParams,
  type ClientKey,
  clientKey,
  INTROSPECTION_ENDPOINT,
  JWT_BEARER,
  nowSeconds,
  signWithKey,
  signWithSecret,
  TOKEN_ENDPOINT,
} from "../support/assertions";
import { type RegisteredClient, registerClient, registerPublicClient } from "../support/fixtures";
import { adminCall, basic, ISSUER, json, postForm } from "../support/http";

/**
 * Client authentication at the token, revocation and introspection
 * endpoints (RFC 6749 §2.3, RFC 7521/7523, OIDC Core §9): each method is
 * accepted with good credentials and refused with bad, missing, expired or
 * replayed ones, always as 401 invalid_client (RFC 6749 §5.2).
 */

type Method =
  | "client_secret_basic"
  | "client_secret_post"
  | "client_secret_jwt"
  | "private_key_jwt";

/** A confidential client that may use client_credentials, so /token answers 200 once authenticated. */
function confidentialClient(
  method: Method,
  overrides: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  return registerClient({
    token_endpoint_auth_method: method,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read api:write",
    ...overrides,
  });
}

async function keyClient(
  alg: ClientKey["alg"],
): Promise<{ client: RegisteredClient; key: ClientKey }> {
  const key = await clientKey(alg);
  const client = await confidentialClient("private_key_jwt", { jwks: { keys: [key.publicJwk] } });
  return { client, key };
}

/** A client_credentials request at /token with the given authentication. */
function tokenCall(
  params: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return postForm("/token", { grant_type: "client_credentials", ...params }, headers);
}

async function expectAuthenticated(res: Response): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await json(res);
  expect(body.access_token).toEqual(expect.any(String));
}

/**
 * RFC 6749 §5.2: invalid_client with 401; a client that tried the
 * Authorization header gets a Basic challenge. Nothing the client sent is echoed.
 */
async function expectInvalidClient(
  res: Response,
  options: { triedBasic?: boolean; secrets?: string[] } = {},
): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(401);
  const body = JSON.parse(text) as { error: string; error_description: string };
  expect(body.error).toBe("invalid_client");
  expect(body.error_description).toEqual(expect.any(String));
  const challenge = res.headers.get("WWW-Authenticate");
  if (options.triedBasic) expect(challenge).toMatch(/^Basic /);
  else expect(challenge).toBeNull();
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  for (const secret of options.secrets ?? []) expect(text).not.toContain(secret);
  return body.error_description;
}

const rawBasic = (decoded: string) =>
  `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(decoded)))}`;

/** Percent-encodes every character, which form-urlencoding allows for unreserved ones too. */
const percentEncodeAll = (s: string) =>
  [...new TextEncoder().encode(s)]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
    .join("");

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("client_secret_basic (RFC 6749 §2.3.1)", () => {
  it("accepts the client_id and secret in the Authorization header", async () => {
    const client = await confidentialClient("client_secret_basic");
    await expectAuthenticated(
      await tokenCall(
        {},
        { Authorization: basic(client.client_id, client.client_secret as string) },
      ),
    );
  });

  it("treats the auth-scheme name case-insensitively (RFC 9110 §11.1)", async () => {
    const client = await confidentialClient("client_secret_basic");
    const header = basic(client.client_id, client.client_secret as string).replace(
      /^Basic/,
      "basic",
    );
    await expectAuthenticated(await tokenCall({}, { Authorization: header }));
  });

  it("form-urldecodes both halves of the header before comparing them", async () => {
    const client = await confidentialClient("client_secret_basic");
    const header = rawBasic(
      `${percentEncodeAll(client.client_id)}:${percentEncodeAll(client.client_secret as string)}`,
    );
    await expectAuthenticated(await tokenCall({}, { Authorization: header }));
  });

  it("accepts a secret with reserved characters only in its form-urlencoded form", async () => {
    const client = await confidentialClient("client_secret_basic");
    // Server-minted secrets are base64url; to exercise the decoding of reserved
    // characters, the stored hash is replaced with that of a chosen secret.
    const secret = "p@ss w0rd:+/%&é=";
    const key = `client:${client.client_id}`;
    const record = (await env.CLIENTS.get<Record<string, unknown>>(key, "json")) as {
      credential: { method: string; secretHash: string };
    };
    record.credential.secretHash = await sha256Hex(secret);
    await env.CLIENTS.put(key, JSON.stringify(record));

    await expectAuthenticated(
      await tokenCall({}, { Authorization: basic(client.client_id, secret) }),
    );
    // Sent without the encoding, "+" would mean a space and "%&" is no escape at all.
    await expectInvalidClient(
      await tokenCall({}, { Authorization: rawBasic(`${client.client_id}:${secret}`) }),
      { triedBasic: true, secrets: [secret] },
    );
  });

  it("refuses a stored record of no known method with 401 invalid_client, not a 500", async () => {
    const client = await confidentialClient("client_secret_basic");
    const key = `client:${client.client_id}`;
    const record = (await env.CLIENTS.get<Record<string, unknown>>(key, "json")) as {
      credential: { method: string };
    };
    record.credential.method = "tls_client_auth"; // e.g. written by a newer version
    await env.CLIENTS.put(key, JSON.stringify(record));
    await expectInvalidClient(
      await tokenCall(
        {},
        { Authorization: basic(client.client_id, client.client_secret as string) },
      ),
      { triedBasic: true, secrets: [client.client_secret as string] },
    );
  });

  it("refuses, with 401 and not a 500, a client whose stored key set the JOSE library cannot read", async () => {
    const { client, key } = await keyClient("ES256");
    const stored = `client:${client.client_id}`;
    const record = (await env.CLIENTS.get<Record<string, unknown>>(stored, "json")) as {
      credential: { jwks: unknown };
    };
    record.credential.jwks = { keys: "not a list" };
    await env.CLIENTS.put(stored, JSON.stringify(record));
    await expectInvalidClient(
      await tokenCall(assertionParams(await signWithKey(key, client.client_id))),
    );
  });

  it("refuses a wrong secret with 401 and a Basic challenge", async () => {
    const client = await confidentialClient("client_secret_basic");
    const wrong = `${client.client_secret}x`;
    await expectInvalidClient(
      await tokenCall({}, { Authorization: basic(client.client_id, wrong) }),
      {
        triedBasic: true,
        secrets: [wrong],
      },
    );
    await expectInvalidClient(await tokenCall({}, { Authorization: basic(client.client_id, "") }), {
      triedBasic: true,
    });
  });

  it("refuses an unknown client_id exactly as it refuses a wrong secret", async () => {
    const client = await confidentialClient("client_secret_basic");
    const unknown = await expectInvalidClient(
      await tokenCall(
        {},
        { Authorization: basic("no-such-client", client.client_secret as string) },
      ),
      { triedBasic: true },
    );
    const wrong = await expectInvalidClient(
      await tokenCall({}, { Authorization: basic(client.client_id, "wrong") }),
      { triedBasic: true },
    );
    expect(unknown).toBe(wrong);
  });

  it.each([
    ["no credentials at all", "Basic"],
    ["characters outside base64", "Basic !!!not-base64!!!"],
    ["no colon between id and secret", rawBasic("just-an-id")],
    ["an empty client_id", rawBasic(":a-secret")],
    ["bytes that are not UTF-8", `Basic ${btoa("\xff\xfe:\xff")}`],
    ["a broken percent-escape", rawBasic("client%zz:secret")],
    ["two credentials", `${rawBasic("a:b")}, ${rawBasic("c:d")}`],
  ])("refuses a malformed Basic header (%s) with 401 and a Basic challenge", async (_, header) => {
    await expectInvalidClient(await tokenCall({}, { Authorization: header }), { triedBasic: true });
  });

  it("refuses a client_id parameter that names another client than the header", async () => {
    const client = await confidentialClient("client_secret_basic");
    const other = await confidentialClient("client_secret_basic");
    const auth = { Authorization: basic(client.client_id, client.client_secret as string) };
    await expectInvalidClient(await tokenCall({ client_id: other.client_id }, auth), {
      triedBasic: true,
    });
    await expectAuthenticated(await tokenCall({ client_id: client.client_id }, auth));
  });

  it("refuses a client registered for Basic that sends its secret in the body", async () => {
    const client = await confidentialClient("client_secret_basic");
    await expectInvalidClient(
      await tokenCall({ client_id: client.client_id, client_secret: client.client_secret }),
      { secrets: [client.client_secret as string] },
    );
  });

  it("refuses a confidential client that presents only its client_id", async () => {
    const client = await confidentialClient("client_secret_basic");
    await expectInvalidClient(await tokenCall({ client_id: client.client_id }));
  });
});

describe("client_secret_post (RFC 6749 §2.3.1)", () => {
  it("accepts client_id and client_secret in the request body", async () => {
    const client = await confidentialClient("client_secret_post");
    await expectAuthenticated(
      await tokenCall({ client_id: client.client_id, client_secret: client.client_secret }),
    );
  });

  it("refuses a wrong secret, a missing secret and a missing client_id", async () => {
    const client = await confidentialClient("client_secret_post");
    await expectInvalidClient(
      await tokenCall({ client_id: client.client_id, client_secret: "wrong-secret" }),
      { secrets: ["wrong-secret"] },
    );
    await expectInvalidClient(await tokenCall({ client_id: client.client_id }));
    await expectInvalidClient(await tokenCall({ client_secret: client.client_secret }), {
      secrets: [client.client_secret as string],
    });
  });

  it("refuses a client registered for the body that uses the Authorization header", async () => {
    const client = await confidentialClient("client_secret_post");
    await expectInvalidClient(
      await tokenCall(
        {},
        { Authorization: basic(client.client_id, client.client_secret as string) },
      ),
      { triedBasic: true },
    );
  });

  it("refuses a request that uses the header and the body at once, even with good secrets", async () => {
    const client = await confidentialClient("client_secret_basic");
    await expectInvalidClient(
      await tokenCall(
        { client_id: client.client_id, client_secret: client.client_secret },
        { Authorization: basic(client.client_id, client.client_secret as string) },
      ),
      { triedBasic: true },
    );
  });
});

describe("client_secret_jwt (OIDC Core §9, RFC 7523 §2.2)", () => {
  it("accepts an HS256 assertion keyed with the client secret, for the issuer or the token endpoint", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const secret = client.client_secret as string;
    for (const aud of [ISSUER, TOKEN_ENDPOINT]) {
      await expectAuthenticated(
        await tokenCall(assertionParams(await signWithSecret(secret, client.client_id, { aud }))),
      );
    }
    await expectAuthenticated(
      await tokenCall(assertionParams(await signWithSecret(secret, client.client_id, {}, "HS512"))),
    );
  });

  it("refuses an assertion keyed with another secret", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const other = await confidentialClient("client_secret_jwt");
    const forged = await signWithSecret(other.client_secret as string, client.client_id);
    await expectInvalidClient(await tokenCall(assertionParams(forged)));
  });

  it("refuses an expired assertion and one that lives longer than an hour", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const secret = client.client_secret as string;
    const now = nowSeconds();
    const expired = await signWithSecret(secret, client.client_id, {
      iat: now - 600,
      exp: now - 120,
    });
    expect(await expectInvalidClient(await tokenCall(assertionParams(expired)))).toMatch(/expired/);
    const tooLong = await signWithSecret(secret, client.client_id, { exp: now + 7200 });
    await expectInvalidClient(await tokenCall(assertionParams(tooLong)));
  });

  it("refuses an assertion replayed within its lifetime (RFC 7523 §3, jti)", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const assertion = await signWithSecret(client.client_secret as string, client.client_id);
    await expectAuthenticated(await tokenCall(assertionParams(assertion)));
    expect(await expectInvalidClient(await tokenCall(assertionParams(assertion)))).toMatch(
      /already used/,
    );
  });

  it("refuses the secret itself, sent with Basic or in the body", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const secret = client.client_secret as string;
    await expectInvalidClient(
      await tokenCall({}, { Authorization: basic(client.client_id, secret) }),
      {
        triedBasic: true,
      },
    );
    await expectInvalidClient(
      await tokenCall({ client_id: client.client_id, client_secret: secret }),
      {
        secrets: [secret],
      },
    );
  });

  it("refuses an asymmetric signature for a client whose credential is a secret", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const key = await clientKey("ES256");
    await expectInvalidClient(
      await tokenCall(assertionParams(await signWithKey(key, client.client_id))),
    );
  });

  it("refuses an assertion without jti, with another subject, or for another audience", async () => {
    const client = await confidentialClient("client_secret_jwt");
    const secret = client.client_secret as string;
    for (const claims of [
      { jti: undefined },
      { sub: "someone-else" },
      { aud: "https://other.example" },
    ]) {
      await expectInvalidClient(
        await tokenCall(assertionParams(await signWithSecret(secret, client.client_id, claims))),
      );
    }
  });
});

describe.each(["ES256", "RS256", "EdDSA"] as const)(
  "private_key_jwt with %s keys (RFC 7523)",
  (alg) => {
    it("accepts an assertion signed with the registered key", async () => {
      const { client, key } = await keyClient(alg);
      await expectAuthenticated(
        await tokenCall(assertionParams(await signWithKey(key, client.client_id))),
      );
    });

    it("refuses an assertion signed with a key that is not registered", async () => {
      const { client } = await keyClient(alg);
      const stranger = await clientKey(alg);
      const assertion = await signWithKey(
        { ...stranger, publicJwk: { ...stranger.publicJwk, kid: undefined } },
        client.client_id,
      );
      expect(await expectInvalidClient(await tokenCall(assertionParams(assertion)))).toMatch(
        /signature/,
      );
    });

    it("refuses a replay of an accepted assertion", async () => {
      const { client, key } = await keyClient(alg);
      const assertion = await signWithKey(key, client.client_id);
      await expectAuthenticated(await tokenCall(assertionParams(assertion)));
      await expectInvalidClient(await tokenCall(assertionParams(assertion)));
    });
  },
);

describe("private_key_jwt claims (RFC 7523 §3)", () => {
  it("accepts as audience the issuer, the token endpoint, or a list that holds one of them", async () => {
    const { client, key } = await keyClient("ES256");
    for (const aud of [ISSUER, TOKEN_ENDPOINT, ["https://other.example", ISSUER]]) {
      await expectAuthenticated(
        await tokenCall(assertionParams(await signWithKey(key, client.client_id, { aud }))),
      );
    }
  });

  it("accepts the URL of the endpoint being called, and no other endpoint's URL", async () => {
    const { client, key } = await keyClient("ES256");
    const forIntrospection = await signWithKey(key, client.client_id, {
      aud: INTROSPECTION_ENDPOINT,
    });
    expect(await expectInvalidClient(await tokenCall(assertionParams(forIntrospection)))).toMatch(
      /audience/,
    );
    // Refused at /token, so its jti was never consumed: it still works where it was meant for.
    const res = await postForm("/introspect", { ...assertionParams(forIntrospection), token: "x" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: false });
  });

  it("refuses a foreign or missing audience", async () => {
    const { client, key } = await keyClient("ES256");
    for (const aud of ["https://other.example", `${ISSUER}/`, `${ISSUER}/authorize`, undefined]) {
      await expectInvalidClient(
        await tokenCall(assertionParams(await signWithKey(key, client.client_id, { aud }))),
      );
    }
  });

  it("requires iss and sub to both be the client_id", async () => {
    const { client, key } = await keyClient("ES256");
    const other = await confidentialClient("client_secret_basic");
    const wrongSub = await signWithKey(key, client.client_id, { sub: other.client_id });
    expect(await expectInvalidClient(await tokenCall(assertionParams(wrongSub)))).toMatch(
      /iss and sub/,
    );
    const noSub = await signWithKey(key, client.client_id, { sub: undefined });
    await expectInvalidClient(await tokenCall(assertionParams(noSub)));
    // iss names whose keys verify the assertion: another client's keys do not.
    const { client: victim } = await keyClient("ES256");
    const asVictim = await signWithKey(key, victim.client_id);
    await expectInvalidClient(await tokenCall(assertionParams(asVictim)));
  });

  it("refuses an assertion without exp or jti, an expired one, or one not yet valid", async () => {
    const { client, key } = await keyClient("ES256");
    const now = nowSeconds();
    const cases: Record<string, unknown>[] = [
      { exp: undefined },
      { jti: undefined },
      { jti: "" },
      { jti: "j".repeat(257) },
      { iat: now - 600, exp: now - 60 },
      { nbf: now + 300 },
      { exp: now + 3600 + 120 },
    ];
    for (const claims of cases) {
      await expectInvalidClient(
        await tokenCall(assertionParams(await signWithKey(key, client.client_id, claims))),
      );
    }
  });

  it("lets exactly one of two simultaneous uses of one assertion through", async () => {
    const { client, key } = await keyClient("ES256");
    const assertion = await signWithKey(key, client.client_id);
    const statuses = await Promise.all([
      tokenCall(assertionParams(assertion)),
      tokenCall(assertionParams(assertion)),
    ]).then((responses) => responses.map((r) => r.status));
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it("remembers a jti across endpoints: an assertion used at /token is refused at /introspect", async () => {
    const { client, key } = await keyClient("ES256");
    const assertion = await signWithKey(key, client.client_id, { aud: ISSUER });
    await expectAuthenticated(await tokenCall(assertionParams(assertion)));
    await expectInvalidClient(
      await postForm("/introspect", { ...assertionParams(assertion), token: "x" }),
    );
  });

  it("refuses an HMAC signature made with the public key, and an unsigned JWT", async () => {
    const { client, key } = await keyClient("RS256");
    const publicKeyBytes = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    const confused = await new SignJWT(assertionClaims(client.client_id))
      .setProtectedHeader({ alg: "HS256", kid: key.publicJwk.kid as string })
      .sign(publicKeyBytes);
    await expectInvalidClient(await tokenCall(assertionParams(confused)));
    const unsigned = new UnsecuredJWT(assertionClaims(client.client_id)).encode();
    await expectInvalidClient(await tokenCall(assertionParams(unsigned)));
  });

  it("refuses a wrong assertion type, a missing or malformed assertion", async () => {
    const { client, key } = await keyClient("ES256");
    const good = await signWithKey(key, client.client_id);
    await expectInvalidClient(
      await tokenCall({
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        client_assertion: good,
      }),
    );
    await expectInvalidClient(await tokenCall({ client_assertion: good }));
    await expectInvalidClient(await tokenCall({ client_assertion_type: JWT_BEARER }));
    await expectInvalidClient(await tokenCall(assertionParams("not.a.jwt")));
    await expectInvalidClient(await tokenCall(assertionParams("a".repeat(9000))));
    // None of these consumed the jti: the assertion still works.
    await expectAuthenticated(await tokenCall(assertionParams(good)));
  });

  it("refuses a client_id parameter that differs from the assertion's issuer", async () => {
    const { client, key } = await keyClient("ES256");
    const other = await confidentialClient("client_secret_post");
    await expectInvalidClient(
      await tokenCall({
        ...assertionParams(await signWithKey(key, client.client_id)),
        client_id: other.client_id,
      }),
    );
    await expectAuthenticated(
      await tokenCall({
        ...assertionParams(await signWithKey(key, client.client_id)),
        client_id: client.client_id,
      }),
    );
  });

  it("refuses an assertion combined with another method", async () => {
    const { client, key } = await keyClient("ES256");
    const basicClient = await confidentialClient("client_secret_basic");
    await expectInvalidClient(
      await tokenCall(assertionParams(await signWithKey(key, client.client_id)), {
        Authorization: basic(basicClient.client_id, basicClient.client_secret as string),
      }),
      { triedBasic: true },
    );
    await expectInvalidClient(
      await tokenCall({
        ...assertionParams(await signWithKey(key, client.client_id)),
        client_secret: "anything",
      }),
    );
  });

  it("refuses a client registered for private_key_jwt that presents only its client_id", async () => {
    const { client } = await keyClient("ES256");
    await expectInvalidClient(await tokenCall({ client_id: client.client_id }));
  });
});

describe("none, for public clients (RFC 6749 §2.1)", () => {
  it("identifies a public client by its client_id alone", async () => {
    const client = await registerPublicClient();
    // At /token the request then reaches the grant, which refuses the made-up code.
    const res = await postForm("/token", {
      grant_type: "authorization_code",
      client_id: client.client_id,
      code: "not-a-code",
      redirect_uri: client.redirect_uris[0],
      code_verifier: "v".repeat(43),
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("invalid_grant");
    const revoke = await postForm("/revoke", { client_id: client.client_id, token: "x" });
    expect(revoke.status).toBe(200);
  });

  it("refuses a public client that presents a secret or an assertion", async () => {
    const client = await registerPublicClient();
    const call = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      postForm("/revoke", { token: "x", ...params }, headers);
    await expectInvalidClient(await call({ client_id: client.client_id, client_secret: "s" }));
    await expectInvalidClient(await call({}, { Authorization: basic(client.client_id, "") }), {
      triedBasic: true,
    });
    const key = await clientKey("ES256");
    await expectInvalidClient(
      await call(assertionParams(await signWithKey(key, client.client_id))),
    );
  });

  it("refuses an unknown or impossible client_id without a 5xx", async () => {
    for (const clientId of ["no-such-client", "bad id/with:chars", "x".repeat(200)]) {
      await expectInvalidClient(await postForm("/revoke", { client_id: clientId, token: "x" }));
    }
  });
});

describe("the same authentication at /token, /revoke and /introspect", () => {
  it.each(["/token", "/revoke", "/introspect"])(
    "%s accepts the registered method and refuses a wrong secret with 401 and a Basic challenge",
    async (path) => {
      const client = await confidentialClient("client_secret_basic");
      const secret = client.client_secret as string;
      const params = { grant_type: "client_credentials", token: "not-a-token" };
      const good = await postForm(path, params, { Authorization: basic(client.client_id, secret) });
      expect(good.status, await good.clone().text()).toBe(200);
      await expectInvalidClient(
        await postForm(path, params, { Authorization: basic(client.client_id, `${secret}x`) }),
        { triedBasic: true },
      );
    },
  );
});

describe("a deleted client", () => {
  it("can no longer authenticate with its secret", async () => {
    const client = await confidentialClient("client_secret_basic");
    const auth = { Authorization: basic(client.client_id, client.client_secret as string) };
    await expectAuthenticated(await tokenCall({}, auth));
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    await expectInvalidClient(await tokenCall({}, auth), { triedBasic: true });
  });

  it("can no longer authenticate with its keys", async () => {
    const { client, key } = await keyClient("EdDSA");
    await expectAuthenticated(
      await tokenCall(assertionParams(await signWithKey(key, client.client_id))),
    );
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    await expectInvalidClient(
      await tokenCall(assertionParams(await signWithKey(key, client.client_id))),
    );
  });

  it("can no longer identify itself as a public client", async () => {
    const client = await registerPublicClient();
    expect((await postForm("/revoke", { client_id: client.client_id, token: "x" })).status).toBe(
      200,
    );
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    await expectInvalidClient(
      await postForm("/revoke", { client_id: client.client_id, token: "x" }),
    );
  });
});
