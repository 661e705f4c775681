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
