import { describe, expect, it } from "vitest";
import type { FamilyPolicy, FamilyState, Grant } from "../../src/families/model";
import { createPending, type RedeemInput, redeem, refresh } from "../../src/families/state";

/**
 * RFC 8707 section 2.2 inside the family's transitions: which resource an
 * access token is for, decided where a refusal changes nothing.
 */

const T0 = 1_700_000_000_000;
const CLIENT = "client-a";
const A = "https://a.example.test/";
const B = "https://b.example.test/";
const policy: FamilyPolicy = {
  graceSeconds: 5,
  graceNeedsBinding: false,
  absoluteLifetime: 3600,
  idleLifetime: 0,
};
const code = {
  hash: "code-hash",
  expiresAt: T0 + 60_000,
  redirectUri: "https://app.example.test/cb",
  refreshAllowed: true,
};
const redeemInput = (extra: Partial<RedeemInput> = {}): RedeemInput => ({
  codeHash: "code-hash",
  clientId: CLIENT,
  redirectUri: code.redirectUri,
  refresh: { generation: 0, hash: "h0" },
  bindRefreshToProof: false,
  policy,
  accessTokenExpiresAt: T0 + 900_000,
  ...extra,
});

function pending(resources?: string[], senderConstrained?: string[]): FamilyState {
  const grant: Grant = {
    clientId: CLIENT,
    sub: "user-1",
    scope: ["openid"],
    authTime: 1,
    ...(resources ? { resources } : {}),
    ...(senderConstrained ? { senderConstrained } : {}),
  };
  return createPending(undefined, { familyId: "f".repeat(64), grant, code }, T0)
    .state as FamilyState;
}

const rotateInput = (resource?: string, generation = 0) => ({
  clientId: CLIENT,
  presented: { generation, hash: `h${generation}` },
  clientScopes: ["openid"],
  rotation: {
    kind: "rotate" as const,
    successor: { generation: generation + 1, hash: `h${generation + 1}`, sealed: "s" },
  },
  ...(resource !== undefined ? { resource } : {}),
  policy,
  accessTokenExpiresAt: T0 + 900_000,
});

describe("redeeming a code", () => {
  it("answers the named resource, the only one, or none (the default audience)", () => {
    expect(redeem(pending([A, B]), redeemInput({ resource: B }), T0).result).toMatchObject({
      ok: true,
      resource: B,
    });
    expect(redeem(pending([A]), redeemInput(), T0).result).toMatchObject({ ok: true, resource: A });
    const several = redeem(pending([A, B]), redeemInput(), T0).result;
    expect(several.ok && "resource" in several).toBe(false);
    const none = redeem(pending(), redeemInput(), T0).result;
    expect(none.ok && "resource" in none).toBe(false);
  });

  it("refuses a resource outside the grant, leaving the code pending", () => {
    const state = pending([A]);
    const step = redeem(state, redeemInput({ resource: B }), T0);
    expect(step.result).toEqual({ ok: false, reason: "target_not_granted" });
    expect(step.state).toBe(state);
  });

  it("refuses a sender-constrained resource without a proof, and accepts it with a DPoP key or a certificate", () => {
    const state = pending([A], [A]);
    expect(redeem(state, redeemInput(), T0).result).toEqual({
      ok: false,
      reason: "target_needs_binding",
    });
    expect(redeem(state, redeemInput({ proofJkt: "j" }), T0).result).toMatchObject({
      ok: true,
      resource: A,
    });
    expect(redeem(state, redeemInput({ certX5t: "x" }), T0).result).toMatchObject({ ok: true });
  });
});

describe("refreshing", () => {
  const active = (resources?: string[]) =>
    redeem(pending(resources), redeemInput(), T0).state as FamilyState;

  it("answers any one granted resource, and rotates", () => {
    const step = refresh(active([A, B]), rotateInput(B), T0 + 1_000);
    expect(step.result).toMatchObject({ ok: true, outcome: "rotated", resource: B });
  });

  it("refuses a resource outside the grant before anything rotates", () => {
    const state = active([A]);
    const step = refresh(state, rotateInput(B), T0 + 1_000);
    expect(step.result).toEqual({ ok: false, reason: "target_not_granted" });
    expect(step.state).toBe(state);
    expect(step.revoked).toBeUndefined();
  });

  it("refuses any named resource for a grant without resources (an older family)", () => {
    const state = active();
    expect(refresh(state, rotateInput(A), T0 + 1_000).result).toEqual({
      ok: false,
      reason: "target_not_granted",
    });
    expect(refresh(state, rotateInput(), T0 + 1_000).result).toMatchObject({ ok: true });
  });

  it("names a one-resource grant's resource back, changing nothing, when the refresh names none (the Worker checks it as registered now)", () => {
    const state = active([A]);
    const step = refresh(state, rotateInput(), T0 + 1_000);
    expect(step.result).toEqual({ ok: false, reason: "target_unchecked", resource: A });
    expect(step.state).toBe(state);
    expect(step.revoked).toBeUndefined();
  });

  it("treats a rotated-out token naming a foreign resource as reuse: its holder learns nothing about the grant", () => {
    const once = refresh(active([A]), rotateInput(A), T0 + 1_000).state as FamilyState;
    const step = refresh(once, rotateInput(B), T0 + 60_000);
    expect(step.result).toEqual({ ok: false, reason: "reuse_detected" });
  });
});
