import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Introspector } from "../../src/resource-server/introspection";
import { clientCredentialsGrant, registerClient, revokeRequest } from "../support/fixtures";
import { ISSUER } from "../support/http";

/** Introspection against our real Worker (its fetch handler), counting the calls. */
function introspector(clientId: string, clientSecret: string, cacheSeconds = 5) {
  const counter = { calls: 0 };
  const rs = new Introspector({
    url: `${ISSUER}/introspect`,
    clientId,
    clientSecret,
    cacheSeconds,
    fetch: (request) => {
      counter.calls++;
      return exports.default.fetch(request);
    },
  });
  return { rs, counter };
}

async function resourceServerClient() {
  const client = await registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
    resource_server: true,
  });
  return { id: client.client_id, secret: client.client_secret as string };
}

const exp = () => Math.floor(Date.now() / 1000) + 300;

describe("revocation through introspection (RFC 7662)", () => {
  it("reuses an active answer within the cache, and never asks again about an inactive token", async () => {
    const rsClient = await resourceServerClient();
    const { rs, counter } = introspector(rsClient.id, rsClient.secret);
    const { accessToken } = await clientCredentialsGrant();
    expect(await rs.liveness(accessToken, exp())).toBe("active");
    expect(await rs.liveness(accessToken, exp())).toBe("active");
    expect(counter.calls).toBe(1);

    const other = await clientCredentialsGrant();
    expect((await revokeRequest(other.client, { token: other.accessToken })).status).toBe(200);
    expect(await rs.liveness(other.accessToken, exp())).toBe("inactive");
    expect(await rs.liveness(other.accessToken, exp())).toBe("inactive");
    expect(counter.calls).toBe(2);
  });

  it("with no cache, asks every time", async () => {
    const rsClient = await resourceServerClient();
    const { rs, counter } = introspector(rsClient.id, rsClient.secret, 0);
    const { accessToken } = await clientCredentialsGrant();
    await rs.liveness(accessToken, exp());
    await rs.liveness(accessToken, exp());
    expect(counter.calls).toBe(2);
  });

  it("answers unknown (the caller fails closed) when the introspection call is refused", async () => {
    const rsClient = await resourceServerClient();
    const { rs } = introspector(rsClient.id, "wrong-secret");
    const { accessToken } = await clientCredentialsGrant();
    expect(await rs.liveness(accessToken, exp())).toBe("unknown");
  });
});
