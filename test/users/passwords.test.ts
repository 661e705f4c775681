import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PASSWORD_MAX_LENGTH, PBKDF2_ITERATIONS } from "../../src/users/passwords";
import { loginPage } from "../support/authorize";
import { registerClient, registerUser } from "../support/fixtures";

/**
 * A sign-in does the same work whatever it is given (src/users/passwords.ts):
 * one PBKDF2 derivation at the full count, for an existing name or an unknown
 * one, a short password or one over the length limit. So the time an answer
 * takes tells nothing about which names exist. The derivations are counted
 * in this isolate, where the Username and User objects run in the tests.
 */

afterEach(() => vi.restoreAllMocks());

describe("the work of a failed sign-in", () => {
  it("is one full PBKDF2 derivation, whatever the name and the password's length", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const derive = vi.spyOn(crypto.subtle, "deriveBits");
    const long = "x".repeat(PASSWORD_MAX_LENGTH + 100);
    const cases = [
      [user.username, "a wrong password"],
      [user.username, long],
      ["nobody-at-all", "a wrong password"],
      ["nobody-at-all", long],
    ] as const;
    for (const [username, password] of cases) {
      derive.mockClear();
      const res = await browser.submit(html, { username, password });
      expect(res.status, `${username} / ${password.length} characters`).toBe(401);
      const pbkdf2 = derive.mock.calls.filter(
        ([params]) => (params as { name?: string }).name === "PBKDF2",
      );
      expect(pbkdf2, `${username} / ${password.length} characters`).toHaveLength(1);
      expect((pbkdf2[0]?.[0] as { iterations?: number } | undefined)?.iterations).toBe(
        PBKDF2_ITERATIONS,
      );
    }
  });
});

describe("a hash made at an older, lower count", () => {
  it("is renewed at today's count on the next successful sign-in, so every account costs the same", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(user.password),
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const bits = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 },
        key,
        256,
      ),
    );
    const b64 = (b: Uint8Array) =>
      btoa(String.fromCharCode(...b))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
    const stub = env.USER.getByName(user.id);
    await runInDurableObject(stub, (_instance, state) => {
      const record = state.storage.kv.get<Record<string, unknown>>("user") as Record<
        string,
        unknown
      >;
      state.storage.kv.put("user", {
        ...record,
        password: { alg: "pbkdf2-sha256", iterations: 1000, salt: b64(salt), hash: b64(bits) },
      });
    });
    const { browser, html } = await loginPage(client);
    expect(
      (await browser.submit(html, { username: user.username, password: user.password })).status,
    ).toBe(303);
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.kv.get<{ password: { iterations: number } }>("user"),
    );
    expect(stored?.password.iterations).toBe(PBKDF2_ITERATIONS);
  });
});
