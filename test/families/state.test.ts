import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inspect } from "../../src/families/inspection";
import type {
  ActiveFamily,
  FamilyPolicy,
  FamilyState,
  Grant,
  TokenRecord,
} from "../../src/families/model";
import { admitProof, epochOf, type ProofClaim } from "../../src/families/proof-records";
import { cleanupAt, revokeFamily, revokeWithToken } from "../../src/families/revocation";
import {
  createPending,
  expiryOf,
  type RefreshResult,
  redeem,
  refresh,
  type Step,
  TOMBSTONE_LIFETIME_MS,
} from "../../src/families/state";

/**
 * Properties of the pure state machine of one grant (src/families/state.ts),
 * driven by fast-check with arbitrary interleavings of refresh attempts: any
 * previously issued token presented again, at random times, under random
 * grace windows and rotation policies, by the right or the wrong client.
 *
 * The Worker's part is modelled faithfully: it only ever presents tokens whose
 * HMAC tag verified (so every presented token is one the family issued), and
 * it prepares the successor of generation `presented + 1` before each call.
 */

const CLIENT = "client-a";
const GRANT = { clientId: CLIENT, sub: "user-1", scope: ["openid", "api:read"], authTime: 1 };
const T0 = 1_700_000_000_000;

/** A model "seal": names the successor it carries, so the test can tell which token a grace answer hands out. */
const seal = (t: TokenRecord) => `sealed:${t.generation}:${t.hash}`;
const unseal = (sealed: string): string => sealed.slice("sealed:".length);
const id = (t: TokenRecord) => `${t.generation}:${t.hash}`;

/** The family's policy with the client's rotation rule, as the Worker resolves both per call. */
type ModelPolicy = FamilyPolicy & { rotation: "rotate" | "reuse" };

const policyArb: fc.Arbitrary<ModelPolicy> = fc.record({
  rotation: fc.constantFrom<ModelPolicy["rotation"]>("rotate", "rotate", "reuse"),
  graceSeconds: fc.integer({ min: 0, max: 60 }),
  graceNeedsBinding: fc.constant(false),
  absoluteLifetime: fc.integer({ min: 30, max: 600 }),
  idleLifetime: fc.constantFrom(0, 5, 20, 120),
});

type Action =
  | {
      kind: "refresh";
      /** Which issued token, counted back from the newest (modulo how many there are). */
      pick: number;
      advanceMs: number;
      policy: ModelPolicy;
      wrongClient: boolean;
      scope?: string[];
      /** A DPoP proof the family records (RFC 9449 §11.1): a jti from a small pool, an epoch relative to the current. */
      proof?: { jti: string; epochBack: number };
    }
  | { kind: "revokeWithToken"; pick: number; advanceMs: number; wrongClient: boolean }
  | { kind: "revoke"; advanceMs: number }
  | { kind: "replayCode"; advanceMs: number };

/** Mostly retries and races (0 ms), often within a grace window, sometimes long pauses. */
const advanceArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
);
/** Mostly no scope or a subset of the grant; sometimes beyond it. */
const scopeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.subarray(GRANT.scope, { minLength: 1 }) },
  { weight: 1, arbitrary: fc.subarray(["openid", "api:read", "api:write", "email"]) },
);

/** Mostly the newest token, often the one before it (a retry or a race), sometimes any. */
const pickArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.nat() },
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({
      kind: fc.constant("refresh" as const),
      pick: pickArb,
      advanceMs: advanceArb,
      policy: policyArb,
      wrongClient: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      scope: scopeArb,
      proof: fc.option(
        fc.record({
          jti: fc.constantFrom("p1", "p2", "p3", "p4"),
          epochBack: fc.integer({ min: -1, max: 2 }),
        }),
        { nil: undefined },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("revokeWithToken" as const),
      pick: fc.nat(),
      advanceMs: advanceArb,
      wrongClient: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("revoke" as const), advanceMs: advanceArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("replayCode" as const), advanceMs: advanceArb }),
  },
);

/** A family just after its code was redeemed, with its first refresh token (generation 0). */
function activeFamily(
  policy: FamilyPolicy,
  grant: Grant = GRANT,
): { state: FamilyState; first: TokenRecord } {
  const code = {
    hash: "code-hash",
    expiresAt: T0 + 60_000,
    redirectUri: "https://app.example.test/cb",
    refreshAllowed: true,
  };
  const pending = createPending(undefined, { familyId: "f".repeat(64), grant, code }, T0);
  const first = { generation: 0, hash: "h0" };
  const redeemed = redeem(
    pending.state,
    {
      codeHash: "code-hash",
      clientId: CLIENT,
      redirectUri: code.redirectUri,
      refresh: first,
      bindRefreshToProof: false,
      policy,
      accessTokenExpiresAt: T0 + 900_000,
    },
    T0,
  );
  expect(redeemed.result.ok).toBe(true);
  return { state: redeemed.state as FamilyState, first };
}

interface Trace {
  before: FamilyState | undefined;
  after: FamilyState | undefined;
  action: Action;
  presented?: TokenRecord;
  result?: unknown;
  now: number;
}

/** A proof made now (acceptable for a minute), naming an epoch relative to the family's current one. */
function proofClaim(
  state: FamilyState | undefined,
  proof: { jti: string; epochBack: number },
  now: number,
): ProofClaim {
  const current = state?.status === "active" ? epochOf(state.proofs) : 0;
  return { jti: proof.jti, until: now + 60_000, epoch: current - proof.epochBack };
}

/**
 * Runs the actions against the state machine as the TokenFamily DO does
 * (one transition at a time), checking the step-local rules on the way, and
 * returns everything the global properties need.
 */
function run(initialPolicy: FamilyPolicy, actions: Action[]) {
  let { state, first } = activeFamily(initialPolicy);
  const issued: TokenRecord[] = [first];
  const traces: Trace[] = [];
  let now = T0;
  let fresh = 1;
  const choose = (pick: number) =>
    issued[issued.length - 1 - (pick % issued.length)] as TokenRecord;

  for (const action of actions) {
    now += action.advanceMs;
    const before = state;
    let step: Step<unknown>;
    let presented: TokenRecord | undefined;
    switch (action.kind) {
      case "refresh": {
        presented = choose(action.pick);
        const successor =
          action.policy.rotation === "rotate"
            ? { generation: presented.generation + 1, hash: `h${fresh++}` }
            : undefined;
        step = refresh(
          state,
          {
            clientId: action.wrongClient ? "client-b" : CLIENT,
            clientScopes: GRANT.scope,
            presented,
            rotation: successor
              ? { kind: "rotate", successor: { ...successor, sealed: seal(successor) } }
              : { kind: "reuse" },
            ...(action.scope ? { scope: action.scope } : {}),
            ...(action.proof ? { proof: proofClaim(state, action.proof, now) } : {}),
            policy: action.policy,
            accessTokenExpiresAt: now + 900_000,
          },
          now,
        );
        const result = step.result as RefreshResult;
        if (result.ok && result.outcome === "rotated" && successor) {
          expect(result.generation).toBe(successor.generation);
          issued.push(successor);
        }
        break;
      }
      case "revokeWithToken":
        presented = choose(action.pick);
        step = revokeWithToken(
          state,
          { clientId: action.wrongClient ? "client-b" : CLIENT, presented },
          now,
        );
        break;
      case "revoke":
        step = revokeFamily(state, { familyId: state.familyId, reason: "admin" }, now);
        break;
      case "replayCode":
        step = redeem(
          state,
          {
            codeHash: "code-hash",
            clientId: CLIENT,
            redirectUri: "https://app.example.test/cb",
            bindRefreshToProof: false,
            policy: initialPolicy,
            accessTokenExpiresAt: now + 900_000,
          },
          now,
        );
        break;
    }
    state = step.state as FamilyState;
    traces.push({ before, after: state, action, presented, result: step.result, now });
  }
  return { traces, issued, final: state, now };
}

/**
 * Which refresh tokens a holder could use right now: for each issued token,
 * what a refresh with it would hand out (itself when it is current, the
 * sealed successor when the grace window applies). Pure: nothing is stored.
 */
function liveTokens(
  state: FamilyState | undefined,
  issued: TokenRecord[],
  now: number,
  policy: ModelPolicy,
) {
  const live = new Set<string>();
  for (const token of issued) {
    const probe = refresh(
      state,
      {
        clientId: CLIENT,
        clientScopes: GRANT.scope,
        presented: token,
        rotation:
          policy.rotation === "rotate"
            ? {
                kind: "rotate",
                successor: { generation: token.generation + 1, hash: "probe", sealed: "probe" },
              }
            : { kind: "reuse" },
        policy,
        accessTokenExpiresAt: now,
      },
      now,
    ).result;
    if (!probe.ok) continue;
    live.add(probe.outcome === "grace" ? unseal(probe.sealedSuccessor) : id(token));
  }
  return live;
}

const runs = { numRuns: 300 };
const actionsArb = fc.array(actionArb, { minLength: 1, maxLength: 60, size: "medium" });

describe("the token family state machine (properties)", () => {
  it("never has two live refresh tokens: every accepted token leads to the one current token", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, policyArb, (initial, actions, probePolicy) => {
        const { traces, issued } = run(initial, actions);
        for (const t of traces) {
          const live = liveTokens(t.after, issued, t.now, probePolicy);
          expect(live.size).toBeLessThanOrEqual(1);
          if (live.size === 1 && t.after?.status === "active") {
            expect([...live][0]).toBe(id(t.after.refresh?.current as TokenRecord));
          }
        }
      }),
      runs,
    );
  });

  it("accepts a DPoP proof it records at most once while the proof could be accepted (RFC 9449 §11.1)", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        // When each (jti, epoch) was last accepted, and until when that proof was acceptable.
        const accepted = new Map<string, number>();
        for (const t of traces) {
          if (t.action.kind !== "refresh" || !t.action.proof) continue;
          if (!(t.result as RefreshResult).ok) continue;
          const claim = proofClaim(t.before, t.action.proof, t.now);
          const key = `${claim.jti}@${claim.epoch}`;
          const until = accepted.get(key);
          // A second acceptance is of another proof: the first could no longer be accepted.
          if (until !== undefined) expect(t.now).toBeGreaterThanOrEqual(until);
          accepted.set(key, claim.until);
        }
      }),
      runs,
    );
  });

  it("hands out, on a grace answer, exactly the token the last rotation issued (no fork), and rotates exactly when the policy says so", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        let lastIssued: string | undefined;
        for (const t of traces) {
          const r = t.result as RefreshResult | undefined;
          if (t.action.kind !== "refresh" || !r?.ok) continue;
          if (r.outcome === "rotated") {
            lastIssued = id((t.after as ActiveFamily).refresh?.current as TokenRecord);
          }
          if (r.outcome === "grace") {
            expect(unseal(r.sealedSuccessor)).toBe(lastIssued);
            // ... and only for the immediately previous token, within its window.
            const prev = (t.before as ActiveFamily).refresh?.previous;
            expect(t.presented && prev && id(t.presented) === id(prev)).toBe(true);
            expect(t.now - (prev?.rotatedAt ?? 0)).toBeLessThan(
              t.action.policy.graceSeconds * 1000,
            );
          }
          // "reuse" never rotates; "rotate" never hands back the presented token.
          expect(r.outcome === "unchanged").toBe(
            t.action.policy.rotation === "reuse" && r.outcome !== "grace",
          );
        }
      }),
      runs,
    );
  });

  it("never accepts anything again once the family is revoked, and stays revoked", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          if (t.before?.status !== "revoked") continue;
          expect(t.after).toEqual(t.before);
          const r = t.result as { ok?: boolean; revoked?: boolean };
          expect(r.ok === true || r.revoked === true).toBe(false);
        }
      }),
      runs,
    );
  });

  it("changes no state on a refusal, unless the refusal is reuse detection (which revokes)", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          const r = t.result as { ok?: boolean; reason?: string; revoked?: boolean };
          const refused = r.ok === false || r.revoked === false;
          if (!refused) continue;
          if (r.reason === "reuse_detected") {
            expect(t.after?.status).toBe("revoked");
            continue;
          }
          expect(t.after).toEqual(t.before);
        }
      }),
      runs,
    );
  });

  it("revokes on reuse only for a genuine rotated-out token, never for the wrong client or a bad scope", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          if (t.action.kind !== "refresh") continue;
          const r = t.result as RefreshResult;
          if (r.ok || r.reason !== "reuse_detected") continue;
          const before = t.before as ActiveFamily;
          expect(t.action.wrongClient).toBe(false);
          expect(t.presented?.generation).toBeLessThan(
            before.refresh?.current.generation as number,
          );
          expect(t.after).toMatchObject({ status: "revoked", reason: "refresh_token_reuse" });
        }
      }),
      runs,
    );
  });

  it("does revoke when its own client presents a rotated-out token outside the grace window (RFC 9700 §4.14.2)", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          if (t.action.kind !== "refresh" || t.before?.status !== "active") continue;
          const { policy, wrongClient, scope } = t.action;
          const chain = t.before.refresh;
          const presented = t.presented as TokenRecord;
          if (wrongClient || !chain || presented.generation >= chain.current.generation) continue;
          if (scope?.some((s) => !GRANT.scope.includes(s))) continue;
          if (t.now >= expiryOf(t.before.createdAt, t.before.lastUsedAt, policy)) continue;
          // A DPoP proof the family cannot take (replayed, or of a dropped epoch) is refused
          // first, changing nothing; the client's next proof meets the reuse detection.
          if (
            t.action.proof &&
            !admitProof(t.before.proofs, proofClaim(t.before, t.action.proof, t.now), t.now).ok
          )
            continue;
          const prev = chain.previous;
          const inGrace =
            prev !== undefined &&
            id(prev) === id(presented) &&
            t.now - prev.rotatedAt < policy.graceSeconds * 1000;
          if (inGrace) continue;
          expect(t.result).toEqual({ ok: false, reason: "reuse_detected" });
          expect(t.after).toMatchObject({ status: "revoked", reason: "refresh_token_reuse" });
        }
      }),
      runs,
    );
  });

  it("accepts only within the lifetimes, within the original scope, and never changes the grant", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          if (t.after) expect(t.after).toMatchObject({ grant: GRANT });
          if (t.action.kind !== "refresh") continue;
          const r = t.result as RefreshResult;
          if (!r.ok) continue;
          const before = t.before as ActiveFamily;
          expect(t.now).toBeLessThan(before.createdAt + t.action.policy.absoluteLifetime * 1000);
          expect(t.now).toBeLessThan(
            expiryOf(before.createdAt, before.lastUsedAt, t.action.policy),
          );
          for (const s of t.action.scope ?? []) expect(GRANT.scope).toContain(s);
          expect(t.action.wrongClient).toBe(false);
        }
      }),
      runs,
    );
  });

  it("only moves generations forward, one rotation at a time", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { traces } = run(initial, actions);
        for (const t of traces) {
          if (t.before?.status !== "active" || t.after?.status !== "active") continue;
          const from = t.before.refresh?.current.generation as number;
          const to = t.after.refresh?.current.generation as number;
          expect(to === from || to === from + 1).toBe(true);
          if (to === from + 1) {
            expect(t.after.refresh?.previous).toMatchObject(
              t.before.refresh?.current as TokenRecord,
            );
          }
        }
      }),
      runs,
    );
  });

  it("introspects as active only the current token of a live family", () => {
    fc.assert(
      fc.property(policyArb, actionsArb, (initial, actions) => {
        const { final, issued } = run(initial, actions);
        const active = issued.filter((t) => inspect(final, t).active);
        expect(active.length).toBeLessThanOrEqual(1);
        if (final?.status !== "active") expect(active).toHaveLength(0);
        else expect(active.map(id)).toEqual([id(final.refresh?.current as TokenRecord)]);
      }),
      runs,
    );
  });
});

describe("the token family state machine (examples)", () => {
  const policy: FamilyPolicy = {
    graceSeconds: 5,
    graceNeedsBinding: false,
    absoluteLifetime: 3600,
    idleLifetime: 600,
  };
  const rotate = (state: FamilyState, presented: TokenRecord, now: number, next: TokenRecord) =>
    refresh(
      state,
      {
        clientId: CLIENT,
        clientScopes: GRANT.scope,
        presented,
        rotation: { kind: "rotate", successor: { ...next, sealed: seal(next) } },
        policy,
        accessTokenExpiresAt: now + 900_000,
      },
      now,
    );

  it("answers a retry of the previous token within the grace window with the same successor", () => {
    const { state, first } = activeFamily(policy);
    const one = rotate(state, first, T0 + 1_000, { generation: 1, hash: "h1" });
    expect(one.result).toMatchObject({ ok: true, outcome: "rotated", generation: 1 });
    const retry = rotate(one.state as FamilyState, first, T0 + 5_999, {
      generation: 1,
      hash: "hX",
    });
    expect(retry.result).toMatchObject({
      ok: true,
      outcome: "grace",
      sealedSuccessor: "sealed:1:h1",
    });
    const late = rotate(one.state as FamilyState, first, T0 + 6_000, { generation: 1, hash: "hY" });
    expect(late.result).toEqual({ ok: false, reason: "reuse_detected" });
    expect(late.revoked).toMatchObject({ status: "revoked", reason: "refresh_token_reuse" });
  });

  it("ends a grant that belongs to a login session when the session ends, whatever its lifetimes say", () => {
    const grant = { ...GRANT, sid: "session-1", sessionEndsAt: T0 + 120_000 };
    const { state, first } = activeFamily(policy, grant);
    expect(state).toMatchObject({ status: "active", expiresAt: T0 + 120_000 });
    const before = rotate(state, first, T0 + 119_999, { generation: 1, hash: "h1" });
    expect(before.result).toMatchObject({ ok: true, outcome: "rotated" });
    const after = rotate(state, first, T0 + 120_000, { generation: 1, hash: "h1" });
    expect(after.result).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a successor numbered other than the next generation as unknown, changing nothing", () => {
    const { state, first } = activeFamily(policy);
    for (const generation of [0, 2, 7]) {
      const step = rotate(state, first, T0, { generation, hash: "h" });
      expect(step.result).toEqual({ ok: false, reason: "unknown" });
      expect(step.state).toBe(state);
      expect(step.revoked).toBeUndefined();
    }
  });

  it("refuses a refresh whose every scope the client lost since, before anything rotates", () => {
    const { state, first } = activeFamily(policy);
    const step = refresh(
      state,
      {
        clientId: CLIENT,
        presented: first,
        clientScopes: ["profile"],
        rotation: { kind: "rotate", successor: { generation: 1, hash: "h1", sealed: "s" } },
        policy,
        accessTokenExpiresAt: T0,
      },
      T0,
    );
    expect(step.result).toEqual({ ok: false, reason: "scope_withdrawn" });
    expect(step.state).toBe(state);
  });

  it("treats an old token with an out-of-grant scope as reuse, telling its holder nothing about scope", () => {
    const { state, first } = activeFamily(policy);
    const one = rotate(state, first, T0 + 1_000, { generation: 1, hash: "h1" });
    const step = refresh(
      one.state as FamilyState,
      {
        clientId: CLIENT,
        presented: first,
        scope: ["email"],
        clientScopes: GRANT.scope,
        rotation: { kind: "rotate", successor: { generation: 1, hash: "hZ", sealed: "s" } },
        policy,
        accessTokenExpiresAt: T0,
      },
      T0 + 60_000,
    );
    expect(step.result).toEqual({ ok: false, reason: "reuse_detected" });
  });

  it("refuses a wrong hash at the current generation as unknown, without revoking", () => {
    const { state } = activeFamily(policy);
    const step = rotate(state, { generation: 0, hash: "forged" }, T0, {
      generation: 1,
      hash: "h1",
    });
    expect(step.result).toEqual({ ok: false, reason: "unknown" });
    expect(step.state).toBe(state);
  });

  it("refuses a scope beyond the grant before anything rotates", () => {
    const { state, first } = activeFamily(policy);
    const step = refresh(
      state,
      {
        clientId: CLIENT,
        clientScopes: GRANT.scope,
        presented: first,
        scope: ["openid", "email"],
        rotation: { kind: "rotate", successor: { generation: 1, hash: "h1", sealed: "s" } },
        policy,
        accessTokenExpiresAt: T0,
      },
      T0,
    );
    expect(step.result).toEqual({ ok: false, reason: "scope_exceeded" });
    expect(step.state).toBe(state);
  });

  it("leaves a tombstone when it revokes a family not created yet: the creation that comes after is refused, and so is everything else", () => {
    // The browser flow entered the family in the user's index; the user's grants are revoked
    // (password change, block, deletion) before the flow creates the family and its code.
    const familyId = "f".repeat(64);
    const revoked = revokeFamily(undefined, { familyId, reason: "password_changed" }, T0);
    expect(revoked.result).toEqual({ revoked: false }); // no live grant was revoked
    expect(revoked.revoked).toBeUndefined(); // nothing to publish: it never issued a token
    expect(revoked.state).toEqual({
      status: "tombstone",
      familyId,
      revokedAt: T0,
      reason: "password_changed",
    });
    const tombstone = revoked.state as FamilyState;

    const code = {
      hash: "code-hash",
      expiresAt: T0 + 60_000,
      redirectUri: "https://app.example.test/cb",
      refreshAllowed: true,
    };
    const created = createPending(tombstone, { familyId, grant: GRANT, code }, T0 + 1);
    expect(created.result).toEqual({ ok: false });
    expect(created.state).toBe(tombstone);

    const redeemed = redeem(
      tombstone,
      {
        codeHash: "code-hash",
        clientId: CLIENT,
        bindRefreshToProof: false,
        redirectUri: code.redirectUri,
        policy,
        accessTokenExpiresAt: T0 + 900_000,
      },
      T0 + 2,
    );
    expect(redeemed.result).toEqual({ ok: false, reason: "revoked" });
    expect(redeemed.state).toBe(tombstone);
    expect(
      rotate(tombstone, { generation: 0, hash: "h0" }, T0 + 3, { generation: 1, hash: "h1" }),
    ).toMatchObject({ state: tombstone, result: { ok: false, reason: "revoked" } });
    const again = revokeFamily(tombstone, { familyId, reason: "user_deleted" }, T0 + 4);
    expect(again).toEqual({ state: tombstone, result: { revoked: false } });
    expect(inspect(tombstone, { generation: 0, hash: "h0" })).toEqual({ active: false });
    // Kept far longer than the flow takes between its two calls, then cleaned up by the alarm.
    expect(cleanupAt(tombstone)).toBe(T0 + TOMBSTONE_LIFETIME_MS);
    expect(TOMBSTONE_LIFETIME_MS).toBeGreaterThanOrEqual(60 * 60_000);
  });

  it("revokes a pending or active family as before, whatever the user's index knew", () => {
    const { state } = activeFamily(policy);
    const step = revokeFamily(state, { familyId: state.familyId, reason: "password_changed" }, T0);
    expect(step.result).toEqual({ revoked: true });
    expect(step.state).toMatchObject({ status: "revoked", reason: "password_changed" });
    expect(step.revoked).toBe(step.state);
  });
});

describe("a family bound to a DPoP key (RFC 9449 §5)", () => {
  const policy: FamilyPolicy = {
    graceSeconds: 10,
    graceNeedsBinding: true,
    absoluteLifetime: 3600,
    idleLifetime: 600,
  };
  const bound = (jkt: string | undefined) => {
    const { state, first } = activeFamily(policy);
    return { state: { ...state, ...(jkt ? { jkt } : {}) } as FamilyState, first };
  };
  const step = (state: FamilyState, presented: TokenRecord, now: number, proofJkt?: string) =>
    refresh(
      state,
      {
        clientId: CLIENT,
        clientScopes: GRANT.scope,
        presented,
        rotation: {
          kind: "rotate",
          successor: { generation: presented.generation + 1, hash: `h${now}`, sealed: `s${now}` },
        },
        ...(proofJkt ? { proofJkt } : {}),
        policy,
        accessTokenExpiresAt: now + 900_000,
      },
      now,
    );

  it("refuses the current token without a proof by its key, changing nothing", () => {
    const { state, first } = bound("key-a");
    for (const proofJkt of [undefined, "key-b"]) {
      const refused = step(state, first, T0 + 1, proofJkt);
      expect(refused.result).toEqual({ ok: false, reason: "dpop_key_mismatch" });
      expect(refused.state).toBe(state);
      expect(refused.revoked).toBeUndefined();
    }
    expect(step(state, first, T0 + 1, "key-a").result).toMatchObject({
      ok: true,
      outcome: "rotated",
    });
  });

  it("gives the grace window only to a retry by the bound key; another key is reuse", () => {
    const { state, first } = bound("key-a");
    const rotated = step(state, first, T0 + 1_000, "key-a").state as FamilyState;
    expect(step(rotated, first, T0 + 2_000, "key-a").result).toMatchObject({
      ok: true,
      outcome: "grace",
    });
    const thief = step(rotated, first, T0 + 2_000, "key-b");
    expect(thief.result).toEqual({ ok: false, reason: "reuse_detected" });
    expect(thief.revoked?.reason).toBe("refresh_token_reuse");
  });

  it("binds an unbound family refreshed with a proof, when its tokens are to be bound (RFC 9449 §5)", () => {
    const { state, first } = bound(undefined);
    const bindWith = (bindRefreshToProof: boolean) =>
      refresh(
        state,
        {
          clientId: CLIENT,
          clientScopes: GRANT.scope,
          presented: first,
          rotation: { kind: "rotate", successor: { generation: 1, hash: "h1", sealed: "s1" } },
          proofJkt: "key-a",
          bindRefreshToProof,
          policy,
          accessTokenExpiresAt: T0 + 900_000,
        },
        T0 + 1,
      ).state as { jkt?: string };
    expect(bindWith(true).jkt).toBe("key-a");
    expect(bindWith(false).jkt).toBeUndefined();
  });

  it("has no grace window when unbound, if the window needs a binding", () => {
    const { state, first } = bound(undefined);
    const rotated = step(state, first, T0 + 1_000).state as FamilyState;
    expect(step(rotated, first, T0 + 1_500).result).toEqual({
      ok: false,
      reason: "reuse_detected",
    });
  });

  it("binds at redemption only a refresh-issuing public client's family, to the proof's key", () => {
    const code = {
      hash: "code-hash",
      expiresAt: T0 + 60_000,
      redirectUri: "https://app.example.test/cb",
      refreshAllowed: true,
    };
    const pending = createPending(
      undefined,
      { familyId: "f".repeat(64), grant: GRANT, code },
      T0,
    ).state;
    const redeemWith = (bindRefreshToProof: boolean, proofJkt?: string, dpopJkt?: string) =>
      redeem(
        dpopJkt ? ({ ...pending, code: { ...code, dpopJkt } } as FamilyState) : pending,
        {
          codeHash: "code-hash",
          clientId: CLIENT,
          redirectUri: code.redirectUri,
          refresh: { generation: 0, hash: "h0" },
          bindRefreshToProof,
          ...(proofJkt ? { proofJkt } : {}),
          policy,
          accessTokenExpiresAt: T0 + 900_000,
        },
        T0 + 1,
      );
    expect((redeemWith(true, "key-a").state as { jkt?: string }).jkt).toBe("key-a");
    expect((redeemWith(false, "key-a").state as { jkt?: string }).jkt).toBeUndefined();
    expect((redeemWith(true).state as { jkt?: string }).jkt).toBeUndefined();
    // RFC 9449 §10: a code bound by dpop_jkt needs a proof by that key; refused, it stays pending.
    for (const proofJkt of [undefined, "key-b"]) {
      const refused = redeemWith(true, proofJkt, "key-a");
      expect(refused.result).toEqual({ ok: false, reason: "dpop_key_mismatch" });
      expect(refused.state?.status).toBe("pending");
    }
    expect(redeemWith(true, "key-a", "key-a").result).toMatchObject({ ok: true });
  });
});

describe("a family bound to a TLS client certificate (RFC 8705 §4)", () => {
  const policy: FamilyPolicy = {
    graceSeconds: 10,
    graceNeedsBinding: true,
    absoluteLifetime: 3600,
    idleLifetime: 600,
  };
  const bound = (binding: { jkt?: string; x5t?: string }) => {
    const { state, first } = activeFamily(policy);
    return { state: { ...state, ...binding } as FamilyState, first };
  };
  const step = (
    state: FamilyState,
    presented: TokenRecord,
    now: number,
    proofs: { proofJkt?: string; certX5t?: string } = {},
  ) =>
    refresh(
      state,
      {
        clientId: CLIENT,
        clientScopes: GRANT.scope,
        presented,
        rotation: {
          kind: "rotate",
          successor: { generation: presented.generation + 1, hash: `h${now}`, sealed: `s${now}` },
        },
        ...proofs,
        policy,
        accessTokenExpiresAt: now + 900_000,
      },
      now,
    );

  it("refuses the current token without its certificate, changing nothing", () => {
    const { state, first } = bound({ x5t: "cert-a" });
    for (const certX5t of [undefined, "cert-b"]) {
      const refused = step(state, first, T0 + 1, certX5t ? { certX5t } : {});
      expect(refused.result).toEqual({ ok: false, reason: "certificate_mismatch" });
      expect(refused.state).toBe(state);
      expect(refused.revoked).toBeUndefined();
    }
    expect(step(state, first, T0 + 1, { certX5t: "cert-a" }).result).toMatchObject({
      ok: true,
      outcome: "rotated",
    });
  });

  it("bound to a key and a certificate, needs both", () => {
    const { state, first } = bound({ jkt: "key-a", x5t: "cert-a" });
    expect(step(state, first, T0 + 1, { proofJkt: "key-a" }).result).toEqual({
      ok: false,
      reason: "certificate_mismatch",
    });
    expect(step(state, first, T0 + 1, { certX5t: "cert-a" }).result).toEqual({
      ok: false,
      reason: "dpop_key_mismatch",
    });
    expect(
      step(state, first, T0 + 1, { proofJkt: "key-a", certX5t: "cert-a" }).result,
    ).toMatchObject({ ok: true, outcome: "rotated" });
  });

  it("gives the grace window only to a retry with the same certificate; another is reuse", () => {
    const { state, first } = bound({ x5t: "cert-a" });
    const rotated = step(state, first, T0 + 1_000, { certX5t: "cert-a" }).state as FamilyState;
    expect(step(rotated, first, T0 + 2_000, { certX5t: "cert-a" }).result).toMatchObject({
      ok: true,
      outcome: "grace",
    });
    const thief = step(rotated, first, T0 + 2_000, { certX5t: "cert-b" });
    expect(thief.result).toEqual({ ok: false, reason: "reuse_detected" });
    expect(thief.revoked?.reason).toBe("refresh_token_reuse");
  });

  it("binds at redemption a refresh-issuing public client's family to the certificate, and the key too", () => {
    const code = {
      hash: "code-hash",
      expiresAt: T0 + 60_000,
      redirectUri: "https://app.example.test/cb",
      refreshAllowed: true,
    };
    const pending = createPending(
      undefined,
      { familyId: "f".repeat(64), grant: GRANT, code },
      T0,
    ).state;
    const redeemWith = (bindRefreshToProof: boolean, proofs: Record<string, string>) =>
      redeem(
        pending,
        {
          codeHash: "code-hash",
          clientId: CLIENT,
          redirectUri: code.redirectUri,
          refresh: { generation: 0, hash: "h0" },
          bindRefreshToProof,
          ...proofs,
          policy,
          accessTokenExpiresAt: T0 + 900_000,
        },
        T0 + 1,
      ).state as { jkt?: string; x5t?: string };
    expect(redeemWith(true, { certX5t: "cert-a" })).toMatchObject({ x5t: "cert-a" });
    expect(redeemWith(true, { certX5t: "cert-a" })).not.toHaveProperty("jkt");
    expect(redeemWith(true, { certX5t: "cert-a", proofJkt: "key-a" })).toMatchObject({
      x5t: "cert-a",
      jkt: "key-a",
    });
    expect(redeemWith(false, { certX5t: "cert-a" })).not.toHaveProperty("x5t");
  });
});
