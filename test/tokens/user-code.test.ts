import { describe, expect, it } from "vitest";
import {
  formatUserCode,
  newUserCode,
  normalizeUserCode,
  USER_CODE_ALPHABET,
} from "../../src/tokens/user-code";

/** RFC 8628 §6.1 user codes (src/tokens/user-code.ts). */

describe("user codes (RFC 8628 §6.1)", () => {
  it("are 8 characters of BCDFGHJKLMNPQRSTVWXZ, every character drawn about equally often", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const code = newUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join("")).toBe(USER_CODE_ALPHABET);
    // 16,000 characters, 800 expected each: far outside ±25% only if biased.
    for (const n of counts.values()) expect(Math.abs(n - 800)).toBeLessThan(200);
  });

  it("are shown as XXXX-XXXX, and read back in any case, with dashes, spaces or other punctuation", () => {
    expect(formatUserCode("WDJBMJHT")).toBe("WDJB-MJHT");
    for (const typed of ["WDJB-MJHT", "wdjb-mjht", " wdjb mjht ", "WDJBMJHT", "wd.jb–mj_ht"])
      expect(normalizeUserCode(typed), typed).toBe("WDJBMJHT");
  });

  it("anything else is no code: other letters, digits, wrong lengths, overlong input", () => {
    for (const typed of ["WDJB-MJHA", "WDJB-MJH1", "WDJB-MJH", "WDJB-MJHTT", "", "W".repeat(40)])
      expect(normalizeUserCode(typed), typed).toBeUndefined();
  });
});
