/**
 * A bounded memo in one isolate's memory, each entry with its own deadline.
 *
 * Workers KV is already a cache (a write takes up to about a minute to reach
 * other locations), but locally and in production each read is still a call
 * out of the isolate; on the hot paths (a client per token request, a
 * revocation check per introspection) that call costs more than the rest of
 * the request. Callers keep entries for a few seconds at most and say in the
 * README how that adds to KV's own bound.
 *
 * When full, the entry written longest ago goes first.
 */
export class IsolateCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` until `until` (ms since the epoch); a past deadline keeps nothing. */
  set(key: string, value: V, until: number): void {
    this.entries.delete(key);
    if (until <= Date.now()) return;
    this.entries.set(key, { value, until });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * One cache per binding object. The runtime hands every request of an isolate
 * the same binding objects, so this is one cache per isolate and namespace;
 * a test (or the benchmark's counting) that swaps a binding gets a cache of
 * its own and never sees entries read through another.
 */
export function cachePerBinding<V>(maxEntries: number): (binding: object) => IsolateCache<V> {
  const caches = new WeakMap<object, IsolateCache<V>>();
  return (binding) => {
    let cache = caches.get(binding);
    if (!cache) {
      cache = new IsolateCache<V>(maxEntries);
      caches.set(binding, cache);
    }
    return cache;
  };
}
