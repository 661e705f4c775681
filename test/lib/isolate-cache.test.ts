import { describe, expect, it } from "vitest";
import { cachePerBinding, IsolateCache } from "../../src/lib/isolate-cache";

describe("IsolateCache (src/lib/isolate-cache.ts)", () => {
  it("answers an entry until its deadline, and nothing after it", () => {
    const cache = new IsolateCache<string>(10);
    const now = Date.now();
    cache.set("a", "first", now + 1000);
    expect(cache.get("a", now)).toBe("first");
    expect(cache.get("a", now + 999)).toBe("first");
    expect(cache.get("a", now + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps nothing whose deadline has passed, and a new value replaces the old", () => {
    const cache = new IsolateCache<boolean>(10);
    cache.set("k", true, Date.now() + 60_000);
    cache.set("k", false, Date.now() - 1);
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", false, Date.now() + 60_000);
    expect(cache.get("k")).toBe(false);
  });

  it("holds at most its bound, dropping the entry written longest ago", () => {
    const cache = new IsolateCache<number>(3);
    const later = Date.now() + 60_000;
    for (const [i, key] of ["a", "b", "c", "d"].entries()) cache.set(key, i, later);
    expect(cache.size).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect([cache.get("b"), cache.get("c"), cache.get("d")]).toEqual([1, 2, 3]);
    cache.set("b", 10, later); // rewritten: now the newest
    cache.set("e", 4, later);
    expect(cache.get("c")).toBeUndefined();
    expect(cache.get("b")).toBe(10);
  });

  it("forgets an entry on delete", () => {
    const cache = new IsolateCache<string>(10);
    cache.set("a", "x", Date.now() + 60_000);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
  });

  it("gives each binding object a cache of its own, and the same one every time", () => {
    const cacheOf = cachePerBinding<string>(10);
    const kv = {};
    const swapped = {};
    cacheOf(kv).set("client", "from kv", Date.now() + 60_000);
    expect(cacheOf(kv).get("client")).toBe("from kv");
    expect(cacheOf(swapped).get("client")).toBeUndefined();
  });
});
