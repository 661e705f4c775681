import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { familyOfNonce } from "../../src/dpop/nonce";
import { PROOFS_PER_EPOCH } from "../../src/families/proof-records";
import { Browser, pkce, signInAndAuthorize, type TokenSet } from "../support/browser";
import {
  DpopKey,
  dpopCodeFlow,
  dpopTokenRequest,
  serverNonce,
  TOKEN_URL,
  userinfoWith,
} from "../support/dpop";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { call, DESCRIPTION_CHARSET, json } from "../support/http";
import { storedFamily } from "../support/refresh";

/**
 * Where a token-endpoint proof's jti is recorded (RFC 9449 §11.1), and that
 * each proof is accepted once whichever record holds it: a refresh's answer
 * hands on its family's own nonce (§8.2); a proof carrying it is recorded by
 * that family in the refreshing transaction (no second Durable Object call)
 * and is refused for any other grant; every other proof is recorded per key.
 */

const SCOPE = "openid profile api:read offline_access";

type ErrorBody = { error: string; error_description: string };

async function expectError(res: Response, error: string): Promise<Response> {
  const body = await json<ErrorBody>(res.clone());
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(400);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  return res;
}

/** A public client's grant, bound to `key`, with the nonce its redemption handed on. */
async function boundGrant(client?: RegisteredClient, key?: DpopKey) {
  const c = client ?? (await registerPublicClient({ consent: "implicit" }));
  const k = key ?? (await DpopKey.generate());
  const tokens = await dpopCodeFlow(c, await registerUser(), k, { scope: SCOPE });
  return { client: c, key: k, refreshToken: tokens.refresh_token as string };
}

const refreshBody = (client: RegisteredClient, refreshToken: string) =>
  new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: client.client_id,
  }).toString();

const sendProof = (proof: string, body: string) =>
  call("/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", DPoP: proof },
    body,
  });

/** A refresh proven by `key` with `nonce`; must succeed. Returns the tokens and the nonce handed on. */
async function refreshWithNonce(
  client: RegisteredClient,
  key: DpopKey,
  refreshToken: string,
  nonce: string,
): Promise<{ tokens: TokenSet; nonce: string }> {
  const res = await dpopTokenRequest(
    client,
    key,
    { grant_type: "refresh_token", refresh_token: refreshToken },
    { nonce },
  );
  expect(res.status, await res.clone().text()).toBe(200);
  const next = res.headers.get("dpop-nonce");
  expect(next).toBeTruthy();
  return { tokens: await json<TokenSet>(res), nonce: next as string };
}

/** A bound grant refreshed once (its proof recorded per key), with the family nonce that refresh handed on. */
async function refreshedGrant() {
  const grant = await boundGrant();
  const { client, key, refreshToken } = grant;
  return {
    ...grant,
    ...(await refreshWithNonce(client, key, refreshToken, await serverNonce(client, key))),
  };
}

/** The jtis the per-key record holds for `key`. */
const keyRecord = (key: DpopKey) =>
  runInDurableObject(env.REPLAY_GUARD.getByName(`dpop:${key.jkt}`), (_o, state) =>
    state.storage.sql
      .exec<{ jti: string }>("SELECT jti FROM seen")
      .toArray()
      .map((r) => r.jti),
  );

describe("a refresh hands on its family's own nonce, and the family records the proofs that carry it", () => {
  it("the first refresh (server nonce) is recorded per key; the next (family nonce) by the family only", async () => {
    const { client, key, refreshToken } = await boundGrant();
    const first = await refreshWithNonce(client, key, refreshToken, await serverNonce(client, key));
    expect(familyOfNonce(first.nonce)).toMatchObject({ epoch: 0 });

    const jti = crypto.randomUUID();
    const res = await dpopTokenRequest(
      client,
      key,
      { grant_type: "refresh_token", refresh_token: first.tokens.refresh_token as string },
      { nonce: first.nonce, jti },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const family = await storedFamily(refreshToken);
    expect(family?.status === "active" && family.proofs?.current.map((r) => r.jti)).toEqual([jti]);
    expect(await keyRecord(key)).not.toContain(jti);
  });

  it("a proof with its family's nonce is accepted once: sent again, it is invalid_dpop_proof and changes nothing", async () => {
    const { client, key, refreshToken, tokens, nonce } = await refreshedGrant();
    const next = tokens.refresh_token as string;
    const proof = await key.proof("POST", TOKEN_URL, { nonce });
    const accepted = await sendProof(proof, refreshBody(client, next));
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const successor = (await json<TokenSet>(accepted)).refresh_token as string;
    const before = JSON.stringify(await storedFamily(refreshToken));
    // Again with the same token (within the grace window it would get the successor) ...
    await expectError(await sendProof(proof, refreshBody(client, next)), "invalid_dpop_proof");
    // ... and with the current one.
    await expectError(await sendProof(proof, refreshBody(client, successor)), "invalid_dpop_proof");
    expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
  });

  it("of 16 parallel refreshes with one family-nonce proof, exactly one is accepted", async () => {
    const { client, key, refreshToken, tokens, nonce } = await refreshedGrant();
    const proof = await key.proof("POST", TOKEN_URL, { nonce });
    const body = refreshBody(client, tokens.refresh_token as string);
    const results = await Promise.all(Array.from({ length: 16 }, () => sendProof(proof, body)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 200)) {
      await expectError(res, "invalid_dpop_proof");
    }
    expect((await storedFamily(refreshToken))?.status).toBe("active");
  });

  it("a proof carrying one family's nonce is refused for another family of the same key, and for a code, with a nonce that works", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const key = await DpopKey.generate();
    const a = await boundGrant(client, key);
    const b = await boundGrant(client, key);
    const ofA = await refreshWithNonce(client, key, a.refreshToken, await serverNonce(client, key));
    const proof = await key.proof("POST", TOKEN_URL, { nonce: ofA.nonce });

    const beforeB = JSON.stringify(await storedFamily(b.refreshToken));
    const atB = await expectError(
      await sendProof(proof, refreshBody(client, b.refreshToken)),
      "use_dpop_nonce",
    );
    expect(JSON.stringify(await storedFamily(b.refreshToken))).toBe(beforeB);
    // The nonce handed with the refusal works for B.
    await refreshWithNonce(client, key, b.refreshToken, atB.headers.get("dpop-nonce") as string);

    const { verifier, challenge } = await pkce();
    const user = await registerUser();
    const redirect = await signInAndAuthorize(new Browser(), client, user, {
      challenge,
      scope: SCOPE,
    });
    const redeem = new URLSearchParams({
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code") as string,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: client.client_id,
    }).toString();
    const refused = await expectError(await sendProof(proof, redeem), "use_dpop_nonce");
    // Nothing was spent: the code redeems with a proof carrying the nonce handed on.
    const retry = await key.proof("POST", TOKEN_URL, {
      nonce: refused.headers.get("dpop-nonce") as string,
    });
    expect((await sendProof(retry, redeem)).status).toBe(200);
    // And A itself still takes the proof, once.
    expect(
      (await sendProof(proof, refreshBody(client, ofA.tokens.refresh_token as string))).status,
    ).toBe(200);
  });

  it("a forged family nonce (another family's MAC, or a changed epoch) is use_dpop_nonce and changes nothing", async () => {
    const { client, key, refreshToken, tokens, nonce } = await refreshedGrant();
    const current = tokens.refresh_token as string;
    const [period, serverMac, epoch, family, mac] = nonce.split(".");
    const forged = [
      `${period}.${serverMac}.${Number(epoch) + 1}.${family}.${mac}`,
      `${period}.${serverMac}.${epoch}.${family}.${"A".repeat(22)}`,
    ];
    const before = JSON.stringify(await storedFamily(refreshToken));
    for (const bad of forged) {
      const proof = await key.proof("POST", TOKEN_URL, { nonce: bad });
      await expectError(await sendProof(proof, refreshBody(client, current)), "use_dpop_nonce");
    }
    expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
  });

  it(`a family nonce two epochs old (${PROOFS_PER_EPOCH} proofs each) is use_dpop_nonce with the current one`, async () => {
    let { client, key, refreshToken, tokens, nonce } = await refreshedGrant();
    const first = nonce;
    for (let i = 0; i < 2 * PROOFS_PER_EPOCH; i++) {
      ({ tokens, nonce } = await refreshWithNonce(
        client,
        key,
        tokens.refresh_token as string,
        nonce,
      ));
    }
    expect(familyOfNonce(nonce)?.epoch).toBe(2);
    const stale = await key.proof("POST", TOKEN_URL, { nonce: first });
    const res = await expectError(
      await sendProof(stale, refreshBody(client, tokens.refresh_token as string)),
      "use_dpop_nonce",
    );
    expect(res.headers.get("dpop-nonce")).toBe(nonce);
    const family = await storedFamily(refreshToken);
    // The records never hold more than an epoch and the one before (with its late proofs).
    if (family?.status !== "active") throw new Error("family not active");
    expect(
      (family.proofs?.current.length ?? 0) + (family.proofs?.previous.length ?? 0),
    ).toBeLessThanOrEqual(3 * PROOFS_PER_EPOCH);
  });

  it("userinfo takes a family nonce as the server's (no retry after a refresh)", async () => {
    const { key, tokens, nonce } = await refreshedGrant();
    const res = await userinfoWith("DPoP", tokens.access_token, key, { nonce });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("a refused refresh spends its family-nonce proof: replayed with a corrected request, it is invalid_dpop_proof", async () => {
    const { client, key, tokens, nonce } = await refreshedGrant();
    const current = tokens.refresh_token as string;
    const proof = await key.proof("POST", TOKEN_URL, { nonce });
    const body = (extra: Record<string, string>) =>
      new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: current,
        client_id: client.client_id,
        ...extra,
      }).toString();
    // Refused by the family (a scope beyond the grant), and by the Worker (a malformed scope).
    for (const scope of ["admin:everything", "bad\u0001scope"]) {
      const refusal = await json<ErrorBody>(await sendProof(proof, body({ scope })));
      expect(refusal.error).toBe("invalid_scope");
    }
    await expectError(await sendProof(proof, body({})), "invalid_dpop_proof");
    // The rightful client's next proof works: the token was never rotated.
    await refreshWithNonce(client, key, current, nonce);
  });

  it("userinfo refuses a family nonce that was not made here (a forged family part)", async () => {
    const { key, tokens, nonce } = await refreshedGrant();
    const [period, serverMac, , family, mac] = nonce.split(".");
    const res = await userinfoWith("DPoP", tokens.access_token, key, {
      nonce: `${period}.${serverMac}.999.${family}.${mac}`,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="use_dpop_nonce"');
  });

  it("a request refused by any step spends its proof, in either record: replayed corrected, it is invalid_dpop_proof", async () => {
    const { client, key, tokens, nonce } = await refreshedGrant();
    const current = tokens.refresh_token as string;
    const form = (withClient: boolean, resources: string[] = []) => {
      const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: current });
      if (withClient) body.set("client_id", client.client_id);
      for (const r of resources) body.append("resource", r);
      return body.toString();
    };
    const refusals = [
      // Client authentication refuses it (a public client names itself).
      { body: form(false), status: 401 },
      // The endpoint refuses two resources before the grant runs.
      { body: form(true, ["https://a.example/", "https://b.example/"]), status: 400 },
    ];
    const nonces = { key: await serverNonce(client, key), family: nonce };
    for (const [record, n] of Object.entries(nonces)) {
      for (const { body, status } of refusals) {
        const proof = await key.proof("POST", TOKEN_URL, { nonce: n });
        expect((await sendProof(proof, body)).status, record).toBe(status);
        await expectError(await sendProof(proof, form(true)), "invalid_dpop_proof");
      }
    }
    await refreshWithNonce(client, key, current, nonce);
  });

  it("a forged token naming a family reaches no family: its refusal records nothing there", async () => {
    const { client, key, refreshToken, nonce } = await refreshedGrant();
    const familyId = refreshToken.split(".")[1] as string;
    // A token of this family's form whose tag does not hold.
    const payload = refreshToken.split(".")[2] as string;
    const forged = `rt1.${familyId}.${payload.startsWith("A") ? "B" : "A"}${payload.slice(1)}`;
    const before = JSON.stringify(await storedFamily(refreshToken));
    for (let i = 0; i < 3; i++) {
      const proof = await key.proof("POST", TOKEN_URL, { nonce });
      await expectError(await sendProof(proof, refreshBody(client, forged)), "invalid_grant");
    }
    expect(JSON.stringify(await storedFamily(refreshToken))).toBe(before);
  });
});
