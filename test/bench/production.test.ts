import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call } from "../support/http";

/**
 * The production Worker (SELF: src/index.ts, as wrangler.toml's `main`) has
 * none of the benchmark's routes: they exist only in the bench worker
 * (bench/worker/index.ts), which only the benchmark builds. What the bundle
 * itself contains is checked by bundle.test.mjs.
 */

describe("the production app", () => {
  it("has no /bench path: every /bench path answers 404", async () => {
    for (const [method, path] of [
      ["GET", "/bench/noop"],
      ["GET", "/bench/floor"],
      ["GET", "/bench/verify-floor"],
      ["POST", "/bench/families"],
      ["GET", "/bench/families/0/storage"],
      ["GET", "/bench/counters"],
      ["DELETE", "/bench/counters"],
    ] as const) {
      const res = await call(path, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "x-bench-count": "probe" },
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toMatchObject({ error: "not_found" });
    }
  });
});
