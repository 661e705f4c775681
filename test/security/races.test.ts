import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueCode } from "../../src/families/gateway";
import { hashPassword } from "../../src/users/passwords";
import { expectTokenError, isLoginPage, redeemCode, setCookie, signIn } from "../support/authorize";
import {
  authorizeUrl,
  Browser,
  codeFlow,
  pkce,
  signInAndAuthorize,
  type TokenSet,
} from "../support/browser";
import {
  introspect,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  revokeRequest,
  type TestUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call } from "../support/http";
import { refresh } from "../support/refresh";

/**
 * Races and interleavings that have hurt other servers. Every request of a
 * race is in flight at once (Promise.all over the real Worker); the family's
 * Durable Object serializes them, and these tests check what that must give:
 * no 5xx, never two live refresh tokens in one family, and nothing that
 * works once a revocation (by the client, or by blocking the user) returned.
 */

const FAMILIES = 8;
const PARALLEL = 8;
const ROUNDS = 3;

interface Outcome {
  status: number;
  body: Record<string, unknown>;
}

async function outcome(res: Response): Promise<Outcome> {
  const text = await res.text();
  expect(res.status, `no request of a race may fail with a 5xx: ${text}`).toBeLessThan(500);
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const refreshOutcome = async (client: RegisteredClient, token: string) =>
  outcome(await refresh(client, token));

/** The generation a refresh token carries (its first four payload bytes). */
function generationOf(token: string): number {
  const payload = token.split(".")[2] as string;
  const bytes = Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) =>
    c.charCodeAt(0),
  );
  return new DataView(bytes.buffer).getUint32(0);
}

/** `count` grants of one client, each a separate family (one user each). */
async function families(client: RegisteredClient, count: number): Promise<TokenSet[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const tokens = await codeFlow(client, await registerUser(), { scope: "openid api:read" });
      expect(tokens.refresh_token).toMatch(/^rt1\./);
      return tokens;
    }),
  );
}

/** Which of `tokens` introspection (by the owning client) reports active. */
async function liveAmong(client: RegisteredClient, tokens: Iterable<string>): Promise<string[]> {
  const unique = [...new Set(tokens)];
  const answers = await Promise.all(unique.map((t) => introspect(client, t)));
  return unique.filter((_, i) => answers[i]?.active === true);
}

/** After a revocation: no refresh token works, no access token is active, userinfo refuses. */
async function expectNothingWorks(
  client: RegisteredClient,
  refreshTokens: Iterable<string>,
  accessTokens: Iterable<string>,
): Promise<void> {
  for (const token of new Set(refreshTokens)) {
    const res = await refreshOutcome(client, token);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_grant");
    expect(await introspect(client, token)).toEqual({ active: false });
  }
  for (const token of new Set(accessTokens)) {
    expect(await introspect(client, token)).toEqual({ active: false });
    const info = await call("/userinfo", { headers: { Authorization: `Bearer ${token}` } });
    expect(info.status).toBe(401);
  }
}

describe("refresh storms: many families at once, many parallel refreshes in each", () => {
  it("with a grace window, parallel refreshes of one token all get the same successor, and each family keeps exactly one live refresh token", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 30 },
    });
    const grants = await families(client, FAMILIES);
    const seen = grants.map((g) => [g.refresh_token as string]);
    let current = grants.map((g) => g.refresh_token as string);

    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        current.map((token) =>
          Promise.all(Array.from({ length: PARALLEL }, () => refreshOutcome(client, token))),
        ),
      );
      current = results.map((family, i) => {
        for (const r of family) expect(r.status, JSON.stringify(r.body)).toBe(200);
        const successors = new Set(family.map((r) => r.body.refresh_token as string));
        // OAuth 2.1 §4.3.1 with a grace window: a race of N requests yields one successor, never a fork.
        expect(successors.size).toBe(1);
        const [next] = successors as Set<string>;
        expect(generationOf(next as string)).toBe(round + 1);
        seen[i]?.push(next as string);
        return next as string;
      });
    }

    for (const [i, tokens] of seen.entries()) {
      expect(await liveAmong(client, tokens)).toEqual([current[i]]);
      const more = await refreshOutcome(client, current[i] as string);
      expect(more.status).toBe(200);
    }
  });

  it("with no grace window, one request per family wins and the replays revoke the family: no live refresh token remains", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 0 },
    });
    const grants = await families(client, FAMILIES);
    const results = await Promise.all(
      grants.map((g) =>
        Promise.all(
          Array.from({ length: PARALLEL }, () => refreshOutcome(client, g.refresh_token as string)),
        ),
      ),
    );
    for (const [i, family] of results.entries()) {
      const won = family.filter((r) => r.status === 200);
      const lost = family.filter((r) => r.status !== 200);
      expect(won).toHaveLength(1);
      for (const r of lost) expect(r.body.error).toBe("invalid_grant");
      const grant = grants[i] as TokenSet;
      const winner = won[0]?.body as { refresh_token: string; access_token: string };
      // RFC 9700 §4.14.2: a replayed refresh token revokes the family, the winner's tokens included.
      expect(
        await liveAmong(client, [grant.refresh_token as string, winner.refresh_token]),
      ).toEqual([]);
      await expectNothingWorks(
        client,
        [winner.refresh_token],
        [grant.access_token, winner.access_token],
      );
    }
  });

  it("workers racing across generations, some with stale copies, never leave two live refresh tokens: a family either still refreshes with its one live token, or was revoked for reuse", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 5 },
    });
    const grants = await families(client, FAMILIES);
    const summaries = await Promise.all(
      grants.map(async (grant, family) => {
        let latest = grant.refresh_token as string;
        const refreshTokens = [latest];
        const accessTokens = [grant.access_token];
        // Family 0 only ever presents the newest token it knows; the others, more and
        // more often, an older copy (a client restored from a stale backup, or an attacker).
        const staleness = family / FAMILIES;
        const worker = async (steps: number) => {
          for (let s = 0; s < steps; s++) {
            const stale = Math.random() < staleness;
            const presented = stale
              ? (refreshTokens[Math.floor(Math.random() * refreshTokens.length)] as string)
              : latest;
            const r = await refreshOutcome(client, presented);
            if (r.status === 200) {
              const next = r.body.refresh_token as string;
              refreshTokens.push(next);
              accessTokens.push(r.body.access_token as string);
              if (generationOf(next) > generationOf(latest)) latest = next;
            } else {
              expect(r.body.error).toBe("invalid_grant");
            }
          }
        };
        await Promise.all(Array.from({ length: PARALLEL }, (_, i) => worker(2 + (i % 3))));
        return { refreshTokens, accessTokens };
      }),
    );
    for (const { refreshTokens, accessTokens } of summaries) {
      const live = await liveAmong(client, refreshTokens);
      expect(live.length).toBeLessThanOrEqual(1);
      if (live.length === 1) {
        expect((await refreshOutcome(client, live[0] as string)).status).toBe(200);
      } else {
        await expectNothingWorks(client, refreshTokens, accessTokens);
      }
    }
  });
});

describe("refresh racing revocation of the same family (RFC 7009)", () => {
  it("once /revoke returned, nothing from the family works, whatever the interleaving", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 30 },
    });
    const grants = await families(client, FAMILIES);
    await Promise.all(
      grants.map(async (grant, i) => {
        const first = grant.refresh_token as string;
        const refreshes: Promise<Outcome>[] = [];
        // Family i sees the revocation after i of its refreshes were sent.
        for (let k = 0; k < i; k++) refreshes.push(refreshOutcome(client, first));
        const revoked = revokeRequest(client, { token: first, token_type_hint: "refresh_token" });
        for (let k = i; k < PARALLEL; k++) refreshes.push(refreshOutcome(client, first));
        const res = await revoked;
        expect(res.status).toBe(200);
        // The moment it returned, even with refreshes still in flight, the first token is dead.
        const right = await refreshOutcome(client, first);
        expect(right.body.error).toBe("invalid_grant");

        // After revoke returns: the first token and every successor already seen are dead.
        const settled = await Promise.all(refreshes);
        const issued = settled.filter((r) => r.status === 200).map((r) => r.body);
        for (const r of settled.filter((o) => o.status !== 200))
          expect(r.body.error).toBe("invalid_grant");
        await expectNothingWorks(
          client,
          [first, ...issued.map((b) => b.refresh_token as string)],
          [grant.access_token, ...issued.map((b) => b.access_token as string)],
        );
      }),
    );
  });
});

describe("refresh racing a user block", () => {
  it("once the block returned, none of the user's families works, including refreshes and a code redemption in flight", async () => {
    const clients = await Promise.all(
      [0, 1, 2].map(() =>
        registerClient({ consent: "implicit", refresh_token: { grace_seconds: 30 } }),
      ),
    );
    const user = await registerUser();
    const browser = new Browser();
    const grants: { client: RegisteredClient; tokens: TokenSet }[] = [];
    for (const client of clients) {
      grants.push({
        client,
        tokens: await codeFlow(client, user, { browser, scope: "openid api:read" }),
      });
    }
    // A code issued before the block, redeemed while it runs.
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(browser, clients[0] as RegisteredClient, user, {
      challenge,
    });
    const code = redirect.searchParams.get("code") as string;

    const inFlight: Promise<{ client: RegisteredClient; result: Outcome }>[] = [];
    const fire = () => {
      for (const { client, tokens } of grants) {
        inFlight.push(
          refreshOutcome(client, tokens.refresh_token as string).then((result) => ({
            client,
            result,
          })),
        );
      }
    };
    fire();
    fire();
    const redemption = tokenRequest(clients[0] as RegisteredClient, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }).then(outcome);
    const block = adminCall("POST", `/admin/users/${user.id}/block`);
    fire();
    expect((await block).status).toBe(200);
    fire();

    const results = await Promise.all(inFlight);
    const redeemed = await redemption;
    for (const { result } of results) {
      if (result.status !== 200) expect(result.body.error).toBe("invalid_grant");
    }
    if (redeemed.status !== 200) expect(redeemed.body.error).toBe("invalid_grant");

    for (const { client, tokens } of grants) {
      const mine = results.filter((r) => r.client === client).map((r) => r.result);
      const issued = mine.filter((r) => r.status === 200).map((r) => r.body);
      await expectNothingWorks(
        client,
        [tokens.refresh_token as string, ...issued.map((b) => b.refresh_token as string)],
        [tokens.access_token, ...issued.map((b) => b.access_token as string)],
      );
    }
    if (redeemed.status === 200) {
      await expectNothingWorks(
        clients[0] as RegisteredClient,
        [redeemed.body.refresh_token as string],
        [redeemed.body.access_token as string],
      );
    }
  });
});

describe("a code issued racing a password change (REVOKE_GRANTS_ON_PASSWORD_CHANGE)", () => {
  const NEW_PASSWORD = { password: "an entirely new passphrase" };

  it("a family entered in the user's index before the change, but created after its revocation pass, is refused: no code comes out of it", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const account = env.USER.getByName(user.id);
    const signedIn = await account.checkPassword(user.password);
    if (!signedIn.ok) throw new Error("the test user cannot sign in");
    const session = {
      sid: (await account.openSession(
        signedIn.sessionVersion,
        1,
        Date.now() + 3_600_000,
        "test",
      )) as string,
      version: signedIn.sessionVersion,
    };
    const familyId = env.TOKEN_FAMILY.newUniqueId().toString();
    const { verifier, challenge } = await pkce();

    // 1. The browser flow enters the new family in the user's index, under the old password's session...
    expect(await account.registerFamily(session, familyId, client.client_id, false)).toBe(true);
    // 2. ...the password change revokes every family in the index, this one still empty...
    const change = await adminCall("PUT", `/admin/users/${user.id}/password`, NEW_PASSWORD);
    expect(change.status).toBe(204);
    // 3. ...and only then would the flow create the family and its code.
    const code = await issueCode(env, {
      familyId,
      grant: { clientId: client.client_id, sub: user.id, scope: ["openid"], authTime: 1 },
      code: {
        expiresAt: Date.now() + 60_000,
        redirectUri: REDIRECT_URI,
        codeChallenge: challenge,
        refreshAllowed: true,
      },
    });
    if (code !== undefined)
      await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    expect(code).toBeUndefined();
  });

  it("many authorizations racing the change: once it returned, no code issued before or during it redeems", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const first = await signIn(new Browser(), client, user, { scope: "openid" });
    const session = (setCookie(first, "__Host-ets_session") as string).split(";")[0] as string;
    const authorize = async () => {
      const { verifier, challenge } = await pkce();
      const res = await call(authorizeUrl(client, { challenge, scope: "openid" }), {
        headers: { Cookie: session },
        redirect: "manual",
      });
      return { res, verifier };
    };

    // What PUT /admin/users/:id/password does once it has hashed the new password (hashed
    // here first: PBKDF2 holds the isolate for tens of milliseconds, which would serialize the race).
    const hash = await hashPassword(NEW_PASSWORD.password);
    // Authorizations start one after another, some before the change, some with it, some after.
    // (In one workerd process the calls between objects take no network time, so the window the
    // next test opens with pauses is narrow here: this is the property end to end.)
    const started: Promise<{ res: Response; verifier: string }>[] = [];
    let change: Promise<number | undefined> | undefined;
    for (let i = 0; i < 40; i++) {
      started.push(authorize());
      if (i === 16) change = env.USER.getByName(user.id).setPassword(hash, true, "test");
      await new Promise((resolve) => setTimeout(resolve, i % 3));
    }
    expect(await change).toBeGreaterThan(0);

    const settled = await Promise.all(started);
    let codes = 0;
    for (const { res, verifier } of settled) {
      const location = res.headers.get("location");
      const code = location ? new URL(location).searchParams.get("code") : null;
      if (!code) {
        // The session ended with the change: the user is asked to sign in again.
        expect(res.status).toBe(200);
        expect(isLoginPage(await res.text())).toBe(true);
        continue;
      }
      codes++;
      await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    }
    expect(codes).toBeGreaterThan(0);
  });

  it("the two steps of many authorizations, in either order and with network-like delays between them, racing the change: no code handed out redeems once it returned", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const account = env.USER.getByName(user.id);
    const signedIn = await account.checkPassword(user.password);
    if (!signedIn.ok) throw new Error("the test user cannot sign in");
    const session = {
      sid: (await account.openSession(
        signedIn.sessionVersion,
        1,
        Date.now() + 3_600_000,
        "test",
      )) as string,
      version: signedIn.sessionVersion,
    };
    const hash = await hashPassword(NEW_PASSWORD.password);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    /**
     * One authorization's two calls, with pauses where the network would be: even `i` enters
     * the family in the user's index and then creates it (the order that lost grants),
     * odd `i` creates it and then enters it (the browser flow's order now).
     */
    const authorization = async (i: number) => {
      const familyId = env.TOKEN_FAMILY.newUniqueId().toString();
      const { verifier, challenge } = await pkce();
      const create = () =>
        issueCode(env, {
          familyId,
          grant: { clientId: client.client_id, sub: user.id, scope: ["openid"], authTime: 1 },
          code: {
            expiresAt: Date.now() + 60_000,
            redirectUri: REDIRECT_URI,
            codeChallenge: challenge,
            refreshAllowed: true,
          },
        });
      const register = () => account.registerFamily(session, familyId, client.client_id, false);
      await pause(i % 7);
      let code: string | undefined;
      if (i % 2 === 0) {
        if (!(await register())) return undefined; // the session ended: no code
        await pause(i % 5);
        code = await create();
      } else {
        code = await create();
        await pause(i % 5);
        if (!(await register())) return undefined; // never handed out
      }
      return code ? { code, verifier } : undefined;
    };

    const flows = Array.from({ length: 40 }, (_, i) => authorization(i));
    await pause(3);
    expect(await account.setPassword(hash, true, "test")).toBeGreaterThan(0);
    const handedOut = (await Promise.all(flows)).filter((f) => f !== undefined);
    for (const { code, verifier } of handedOut)
      await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
  });
});

describe("two redemptions of one authorization code (RFC 6749 §4.1.2)", () => {
  async function pendingCode(): Promise<{
    client: RegisteredClient;
    user: TestUser;
    code: string;
    verifier: string;
  }> {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, { challenge });
    return { client, user, code: redirect.searchParams.get("code") as string, verifier };
  }
  const redeem = (client: RegisteredClient, code: string, verifier: string) =>
    tokenRequest(client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }).then(outcome);

  it.each([2, 5])(
    "%i redemptions at once: exactly one succeeds, and the code's reuse revokes what it issued",
    async (n) => {
      const { client, code, verifier } = await pendingCode();
      const results = await Promise.all(
        Array.from({ length: n }, () => redeem(client, code, verifier)),
      );
      const won = results.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      for (const r of results.filter((o) => o.status !== 200))
        expect(r.body.error).toBe("invalid_grant");
      const tokens = won[0]?.body as { refresh_token: string; access_token: string };
      await expectNothingWorks(client, [tokens.refresh_token], [tokens.access_token]);
    },
  );

  it("a second redemption after the first succeeded is refused and revokes the first's tokens", async () => {
    const { client, code, verifier } = await pendingCode();
    const first = await redeem(client, code, verifier);
    expect(first.status).toBe(200);
    const tokens = first.body as { refresh_token: string; access_token: string };
    expect(await introspect(client, tokens.access_token)).toMatchObject({ active: true });
    const second = await redeem(client, code, verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe("invalid_grant");
    await expectNothingWorks(client, [tokens.refresh_token], [tokens.access_token]);
  });
});
