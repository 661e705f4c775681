import { describe, expect, it } from "vitest";
import { benchmarkFindings, buildProductionBundle } from "../../scripts/check-bundle.mjs";

/**
 * The production bundle, built as a deploy builds it (`wrangler deploy
 * --dry-run`), has nothing of the benchmark: it lives in bench/worker, whose
 * own entry only bench/server.mjs builds. Runs in Node (wrangler cannot run
 * in workerd); JavaScript, as the type check covers no Node code.
 */

describe("the production bundle", () => {
  it("has no /bench path, no BenchFloor, no BENCH_* binding, no bench source", async () => {
    const bundle = await buildProductionBundle();
    expect(Object.keys(bundle.files)).toContain("index.js");
    expect(bundle.sources).toContain("src/index.ts");
    expect(bundle.sources).toContain("src/app.ts");
    expect(benchmarkFindings(bundle)).toStrictEqual([]);
  }, 120_000);
});
