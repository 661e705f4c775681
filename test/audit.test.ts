import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loginPage } from "./support/authorize";
import { Browser, pkce, signInAndAuthorize, type TokenSet } from "./support/browser";
import {
  introspect,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
  tokenRequest,
} from "./support/fixtures";
import { adminCall, basic, fetchWith, postForm } from "./support/http";
import {
  captureLogs,
  codeFlowWith,
  familyIdOf,
  introspectWith,
  type LogLine,
  refreshed,
  refreshRequest,
  revoked,
  sleep,
  unreadableKv,
  withAccessTokenLifetime,
} from "./support/revocation";

/**
 * Audit events: one JSON line each, carrying ids (family, client, user, jti)
 * and never a token or a secret. Tokens and secrets are strings the test
 * knows, so every line written during a scenario is searched for them.
 */

/** What an audit line may carry: ids, reasons and outcomes, never a value from a request. */
const AUDIT_FIELDS = new Set([
  "level",
  "time",
  "requestId",
  "type",
  "event",
  "familyId",
  "clientId",
  "sub",
  "jti",
  "reason",
  "grant",
  "refreshToken",
  "outcome",
  // The thumbprint of a DPoP key a token is bound to: a key's id, not a secret.
  "jkt",
  // A registered resource's identifier (RFC 8707): the token's audience, never an unchecked request value.
  "aud",
  "resource",
  "kid",
  "activatesAt",
  "sinceRotationMs",
  "failures",
  "account",
  "actor",
  "count",
  "grantsRevoked",
  // A self-registered client's authentication method and the REGISTRATION mode it came in by.
  "method",
  "via",
  // Where a client failed to authenticate (token, revocation, introspection), and
  // "unknown" for a client_id that names no client (it is not written down).
  "endpoint",
  "client",
]);

const FAMILY_ID = /^[0-9a-f]{64}$/;
const JTI = /^[A-Za-z0-9_-]{22}$/;

interface Session {
  client: RegisteredClient;
  user: TestUser;
  code: string;
  verifier: string;
  tokens: TokenSet;
}

/** The code flow, keeping the code and verifier too (they are secrets as well). */
async function session(clientFields: Record<string, unknown> = {}): Promise<Session> {
  const client = await registerClient({ consent: "implicit", ...clientFields });
  const user = await registerUser();
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, {
    scope: "openid api:read",
    challenge,
  });
  const code = redirect.searchParams.get("code") as string;
  const res = await tokenRequest(client, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  expect(res.status).toBe(200);
  return { client, user, code, verifier, tokens: (await res.json()) as TokenSet };
}

/** A value, and the part of it that is secret on its own (a JWT's signature, a refresh token's secret). */
function secretForms(value: string): string[] {
  const structured = value.startsWith("eyJ") || /^(rt1|ac1)\./.test(value);
  return structured ? [value, value.split(".")[2] as string] : [value];
}

function expectNoSecrets(raw: string[], secrets: (string | undefined)[]): void {
  const text = raw.join("\n");
  for (const secret of secrets.filter((s): s is string => typeof s === "string")) {
    for (const form of secretForms(secret)) {
      expect(text.includes(form), `a log line contains ${form.slice(0, 12)}…`).toBe(false);
    }
  }
}

function auditLines(lines: LogLine[], event: string): LogLine[] {
  return lines.filter((l) => l.type === "audit" && l.event === event);
}

function expectIdsOnly(line: LogLine): void {
  for (const key of Object.keys(line)) expect(AUDIT_FIELDS, `field ${key}`).toContain(key);
  if (line.familyId !== undefined) expect(line.familyId).toMatch(FAMILY_ID);
  if (line.jti !== undefined) expect(line.jti).toMatch(JTI);
  expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
}

const jtiOf = (token: string) => decodeJwt(token).jti;

describe("audit events (src/log.ts)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("issue: token.issued names the grant, client, user and access token", async () => {
    const logs = captureLogs();
    const s = await session();

    const [line, ...more] = auditLines(logs.lines(), "token.issued");
    expect(more).toStrictEqual([]);
    expect(line).toMatchObject({
      level: "info",
      grant: "authorization_code",
      familyId: familyIdOf(s.tokens.refresh_token as string),
      clientId: s.client.client_id,
      sub: s.user.id,
      jti: jtiOf(s.tokens.access_token),
      refreshToken: true,
    });
    expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [
      s.code,
      s.verifier,
      s.tokens.access_token,
      s.tokens.refresh_token,
    ]);
  });

  it("rotate: token.refreshed names the grant and the new access token", async () => {
    const s = await session();
    const logs = captureLogs();
    const next = await refreshed(s.client, s.tokens.refresh_token as string);

    const [line] = auditLines(logs.lines(), "token.refreshed");
    expect(line).toMatchObject({
      level: "info",
      familyId: familyIdOf(s.tokens.refresh_token as string),
      clientId: s.client.client_id,
      sub: s.user.id,
      jti: jtiOf(next.access_token),
      outcome: "rotated",
    });
    expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [s.tokens.refresh_token, next.refresh_token, next.access_token]);
  });

  it("reuse detected: refresh.reuse_detected is a warning, and family.revoked gives the reason", async () => {
    const s = await session({ refresh_token: { grace_seconds: 0 } });
    const next = await refreshed(s.client, s.tokens.refresh_token as string);
    const logs = captureLogs();

    expect((await refreshRequest(s.client, s.tokens.refresh_token as string)).status).toBe(400);

    const ids = {
      familyId: familyIdOf(s.tokens.refresh_token as string),
      clientId: s.client.client_id,
      sub: s.user.id,
    };
    const [reuse] = auditLines(logs.lines(), "refresh.reuse_detected");
    expect(reuse).toMatchObject({ level: "warn", ...ids, reason: "refresh_token_reuse" });
    const [revokedLine] = auditLines(logs.lines(), "family.revoked");
    expect(revokedLine).toMatchObject({ ...ids, reason: "refresh_token_reuse" });
    for (const line of [reuse, revokedLine]) expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [s.tokens.refresh_token, next.refresh_token]);
  });

  it("grace used: refresh.grace_used is a warning that says how long after the rotation", async () => {
    const s = await session({ refresh_token: { grace_seconds: 30 } });
    const next = await refreshed(s.client, s.tokens.refresh_token as string);
    const logs = captureLogs();

    // The previous token again, within the window: the same successor, and an alert.
    const again = await refreshed(s.client, s.tokens.refresh_token as string);
    expect(again.refresh_token).toBe(next.refresh_token);

    const [grace] = auditLines(logs.lines(), "refresh.grace_used");
    expect(grace).toMatchObject({
      level: "warn",
      familyId: familyIdOf(s.tokens.refresh_token as string),
      clientId: s.client.client_id,
      sub: s.user.id,
    });
    expect(grace?.sinceRotationMs).toEqual(expect.any(Number));
    expect(grace?.sinceRotationMs as number).toBeGreaterThanOrEqual(0);
    expect(grace?.sinceRotationMs as number).toBeLessThan(30_000);
    expectIdsOnly(grace as LogLine);
    expectNoSecrets(logs.raw(), [s.tokens.refresh_token, next.refresh_token]);
  });

  it("a failed sign-in: user.login_failed names the account by id (or none), never the name or password typed", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const logs = captureLogs();
    const wrong = "not-the-password-987654";
    expect((await browser.submit(html, { username: user.username, password: wrong })).status).toBe(
      401,
    );
    const stranger = `nobody${crypto.randomUUID().slice(0, 8)}`;
    expect((await browser.submit(html, { username: stranger, password: wrong })).status).toBe(401);

    const failed = auditLines(logs.lines(), "user.login_failed");
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ sub: user.id, reason: "invalid", failures: 1 });
    expect(failed[1]).toMatchObject({ account: "none", reason: "invalid", failures: 1 });
    for (const line of failed) expectIdsOnly(line);
    expectNoSecrets(logs.raw(), [wrong, user.password, user.username, stranger]);
  });

  it("admin actions: each is an audit line with the actor and the ids, never a password or secret", async () => {
    const logs = captureLogs();
    const created = await adminCall("POST", "/admin/clients", {
      client_name: "Audited",
      redirect_uris: [REDIRECT_URI],
    });
    const client = (await created.json()) as { client_id: string; client_secret: string };
    await adminCall("PATCH", `/admin/clients/${client.client_id}`, { client_name: "Audited 2" });
    const user = await registerUser();
    await adminCall("PATCH", `/admin/users/${user.id}`, { name: "Renamed" });
    await adminCall("PUT", `/admin/users/${user.id}/password`, { password: "a new passphrase 1" });
    await adminCall("POST", `/admin/users/${user.id}/block`);
    await adminCall("POST", `/admin/users/${user.id}/unblock`);
    await adminCall("DELETE", `/admin/users/${user.id}/grants`);
    await adminCall("POST", "/admin/keys/rotate");
    await adminCall("DELETE", `/admin/users/${user.id}`);
    await adminCall("DELETE", `/admin/clients/${client.client_id}`);

    const lines = logs.lines().filter((l) => l.actor !== undefined);
    expect(lines.map((l) => l.event)).toEqual(
      expect.arrayContaining([
        "client.created",
        "client.updated",
        "user.created",
        "user.updated",
        "user.password_set",
        "user.blocked",
        "user.unblocked",
        "grants.revoked",
        "signing_key.rotated",
        "user.deleted",
        "client.deleted",
      ]),
    );
    for (const line of lines) {
      expect(line.actor).toBe("admin-token");
      expectIdsOnly(line);
    }
    expectNoSecrets(logs.raw(), [client.client_secret, user.password, "a new passphrase 1"]);
  });

  it("self-registration: client.registered names the client, its method and the mode, never the address, the metadata or the secret; a wrong initial access token is a security event without it", async () => {
    const logs = captureLogs();
    const address = "198.51.100.77";
    const initialToken = "initial-access-token-for-the-audit-test-0123";
    const registerWith = (authorization: string) =>
      fetchWith({ REGISTRATION: "token", REGISTRATION_TOKEN: initialToken }, "/register", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "CF-Connecting-IP": address,
          Authorization: authorization,
        },
        body: JSON.stringify({
          client_name: "Self-registered app",
          redirect_uris: ["https://self.example.test/cb"],
        }),
      });
    const wrongToken = "a-wrong-guess-at-the-initial-token-987654";
    expect((await registerWith(`Bearer ${wrongToken}`)).status).toBe(401);
    const res = await registerWith(`Bearer ${initialToken}`);
    expect(res.status).toBe(201);
    const client = (await res.json()) as RegisteredClient;

    const [failed] = auditLines(logs.lines(), "registration.auth_failed");
    expect(failed).toMatchObject({ level: "warn" });
    expectIdsOnly(failed as LogLine);
    const [line, ...more] = auditLines(logs.lines(), "client.registered");
    expect(more).toStrictEqual([]);
    expect(line).toMatchObject({
      level: "info",
      clientId: client.client_id,
      method: "client_secret_basic",
      via: "token",
    });
    expectIdsOnly(line as LogLine);
    const text = logs.raw().join("\n");
    for (const value of [address, "self.example.test", "Self-registered app"])
      expect(text).not.toContain(value);
    expectNoSecrets(logs.raw(), [client.client_secret, initialToken, wrongToken]);
  });

  it("code reuse: code.reuse_detected is a warning, and the grant is revoked", async () => {
    const s = await session();
    const logs = captureLogs();
    const replay = await tokenRequest(s.client, {
      grant_type: "authorization_code",
      code: s.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: s.verifier,
    });
    expect(replay.status).toBe(400);

    const [line] = auditLines(logs.lines(), "code.reuse_detected");
    expect(line).toMatchObject({
      level: "warn",
      familyId: familyIdOf(s.tokens.refresh_token as string),
      reason: "authorization_code_reuse",
    });
    expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [s.code, s.verifier]);
  });

  it("revoke: access_token.revoked names the jti, family.revoked names the grant", async () => {
    const s = await session();
    const logs = captureLogs();

    await revoked(s.client, s.tokens.access_token);
    await revoked(s.client, s.tokens.refresh_token as string);

    const [accessLine] = auditLines(logs.lines(), "access_token.revoked");
    expect(accessLine).toMatchObject({
      level: "info",
      jti: jtiOf(s.tokens.access_token),
      clientId: s.client.client_id,
      sub: s.user.id,
    });
    const [familyLine] = auditLines(logs.lines(), "family.revoked");
    expect(familyLine).toMatchObject({
      familyId: familyIdOf(s.tokens.refresh_token as string),
      clientId: s.client.client_id,
      sub: s.user.id,
      reason: "revoked_by_client",
    });
    for (const line of [accessLine, familyLine]) expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [s.tokens.access_token, s.tokens.refresh_token]);
  });

  it("revoke by an operator: family.revoked with reason admin, and user_blocked on a block", async () => {
    const a = await session();
    const b = await session();
    const logs = captureLogs();

    await adminCall("DELETE", `/admin/users/${a.user.id}/grants`);
    await adminCall("POST", `/admin/users/${b.user.id}/block`);

    const revokedLines = auditLines(logs.lines(), "family.revoked");
    expect(revokedLines).toContainEqual(
      expect.objectContaining({ sub: a.user.id, reason: "admin" }),
    );
    expect(revokedLines).toContainEqual(
      expect.objectContaining({ sub: b.user.id, reason: "user_blocked" }),
    );
    expect(auditLines(logs.lines(), "user.blocked")).toStrictEqual([
      expect.objectContaining({ sub: b.user.id }),
    ]);
    for (const line of revokedLines) expectIdsOnly(line);
  });

  it("expire: family.expired when the grant's alarm finds its lifetimes over", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { absolute_lifetime: 1 },
    });
    const user = await registerUser();
    const logs = captureLogs();
    const tokens = await codeFlowWith(withAccessTokenLifetime(1), client, user);
    const familyId = familyIdOf(tokens.refresh_token as string);
    await sleep(2100);

    // Runs the alarm now if the runtime has not already run it.
    await runDurableObjectAlarm(env.TOKEN_FAMILY.get(env.TOKEN_FAMILY.idFromString(familyId)));

    const [line, ...more] = auditLines(logs.lines(), "family.expired");
    expect(more).toStrictEqual([]);
    expect(line).toMatchObject({
      level: "info",
      familyId,
      clientId: client.client_id,
      sub: user.id,
    });
    expectIdsOnly(line as LogLine);
    expectNoSecrets(logs.raw(), [tokens.access_token, tokens.refresh_token]);
    const grants = await (await adminCall("GET", `/admin/users/${user.id}/grants`)).json();
    expect(grants).toStrictEqual({ grants: [] });
  });

  it("no line of a whole session, errors included, contains a token or a secret", async () => {
    const logs = captureLogs();
    const s = await session({ refresh_token: { grace_seconds: 0 } });
    const next = await refreshed(s.client, s.tokens.refresh_token as string);
    await introspect(s.client, next.access_token);
    await introspect(s.client, next.refresh_token as string);
    // Failures write lines too: a wrong secret, a forged token, a KV outage, a reuse.
    await postForm(
      "/token",
      { grant_type: "refresh_token", refresh_token: next.refresh_token },
      { Authorization: basic(s.client.client_id, "wrong-secret-value-1234567890") },
    );
    await revoked(s.client, `${next.refresh_token?.slice(0, -4)}AAAA`);
    await introspectWith(
      { ...env, REVOCATIONS: unreadableKv(env.REVOCATIONS) },
      s.client,
      next.access_token,
    );
    await refreshRequest(s.client, s.tokens.refresh_token as string);
    await revoked(s.client, next.access_token);

    const lines = logs.lines();
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.map((l) => l.event)).toEqual(
      expect.arrayContaining([
        "token.issued",
        "token.refreshed",
        "refresh.reuse_detected",
        "family.revoked",
        "access_token.revoked",
        "revocation_list_unreadable",
      ]),
    );
    for (const line of lines.filter((l) => l.type === "audit")) expectIdsOnly(line);
    expectNoSecrets(logs.raw(), [
      s.code,
      s.verifier,
      s.tokens.access_token,
      s.tokens.refresh_token,
      s.tokens.id_token,
      next.access_token,
      next.refresh_token,
      next.id_token,
      s.client.client_secret,
      "wrong-secret-value-1234567890",
      s.user.password,
      env.ADMIN_TOKEN,
      env.SERVER_SECRET,
    ]);
  });
});
