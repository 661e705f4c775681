import { describe, expect, it } from "vitest";
import { MemoryReplayStore } from "../../src/resource-server/replay";

describe("the per-isolate DPoP replay store", () => {
  it("answers true once per key while it is remembered, and again after it expired", () => {
    const store = new MemoryReplayStore();
    const later = Date.now() + 60_000;
    expect(store.firstUse("jkt.a", later)).toBe(true);
    expect(store.firstUse("jkt.a", later)).toBe(false);
    expect(store.firstUse("jkt.b", later)).toBe(true);
    expect(store.firstUse("jkt.gone", Date.now() - 1)).toBe(true);
    expect(store.firstUse("jkt.gone", later)).toBe(true);
  });

  it("stays within its limit under a flood of distinct proofs, forgetting the oldest first", () => {
    const store = new MemoryReplayStore(100);
    const later = Date.now() + 60_000;
    for (let i = 0; i < 1000; i++) expect(store.firstUse(`k${i}`, later)).toBe(true);
    expect(store.size).toBeLessThanOrEqual(100);
    // The newest are still refused; the oldest were forgotten (the documented limit).
    expect(store.firstUse("k999", later)).toBe(false);
    expect(store.firstUse("k0", later)).toBe(true);
  });
});
