import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ClientRecord } from "../../src/clients/model";
import { refreshPolicy } from "../../src/clients/policy";
import { providerConfig } from "../../src/config";

/** A client record as the registry stores it, with the given credential and refresh settings. */
function client(
  credential: ClientRecord["credential"],
  refresh_token: ClientRecord["refresh_token"] = {},
): ClientRecord {
  return {
    client_id: "policy-test",
    client_name: "Policy test",
    credential,
    redirect_uris: ["https://app.example.test/cb"],
    grant_types: ["authorization_code", "refresh_token"],
    scopes: ["openid", "offline_access"],
    refresh_token,
    consent: "implicit",
    resource_server: false,
    created_at: 0,
    updated_at: 0,
  };
}

/** Provider defaults that reuse refresh tokens and keep a 30 s grace window. */
const lenient = providerConfig(
  { ...env, REFRESH_TOKEN_ROTATION: "reuse", REFRESH_TOKEN_GRACE_SECONDS: "30" },
  "https://auth.example.test",
);

describe("a client's refresh policy (src/clients/policy.ts)", () => {
  it("takes the provider defaults for a confidential client", () => {
    const policy = refreshPolicy(
      client({ method: "client_secret_basic", secretHash: "x" }),
      lenient,
    );
    expect(policy).toMatchObject({ issue: true, rotation: "reuse", graceSeconds: 30 });
  });

  it("always rotates a public client's tokens, with no grace window by default (RFC 9700 §4.14.2)", () => {
    expect(refreshPolicy(client({ method: "none" }), lenient)).toMatchObject({
      issue: true,
      rotation: "rotate",
      returnOnRefresh: true,
      graceSeconds: 0,
      graceNeedsBinding: true,
    });
  });

  it("gives a public client's grace window, when its own settings set one, only to DPoP-bound families", () => {
    const own = client({ method: "none" }, { grace_seconds: 10 });
    expect(refreshPolicy(own, lenient)).toMatchObject({
      graceSeconds: 10,
      graceNeedsBinding: true,
    });
    const confidential = client({ method: "client_secret_basic", secretHash: "x" });
    expect(refreshPolicy(confidential, lenient)).toMatchObject({ graceNeedsBinding: false });
  });

  it("rotates even for a public client stored with other settings before this rule", () => {
    const stored = client({ method: "none" }, { rotation: "reuse" });
    expect(refreshPolicy(stored, lenient)).toMatchObject({ rotation: "rotate" });
    const keeps = client({ method: "none" }, { issue_on_refresh: false });
    expect(refreshPolicy(keeps, lenient)).toMatchObject({
      rotation: "rotate",
      returnOnRefresh: true,
    });
  });
});
