/**
 * RFC 9449 §11.1: a resource server should refuse a proof whose `jti` it saw
 * before, for as long as the proof's `iat` is inside the acceptance window.
 *
 * A resource server cannot reach the authorization server's Durable Objects,
 * so the default store is this isolate's memory: it catches a replay that
 * reaches the same isolate, not one sent to another isolate or location. An
 * API that needs exactness plugs in its own store (a Durable Object keyed by
 * the proof key's thumbprint is the natural one).
 */
export interface ReplayStore {
  /**
   * Records `key` until `until` (ms since the epoch) and answers whether it
   * was new. Must be atomic per key for exactness.
   */
  firstUse(key: string, until: number): boolean | Promise<boolean>;
}

/**
 * The per-isolate default: at most `limit` entries; when full, expired
 * entries are dropped, and if none expired the oldest go first (so under a
 * flood of distinct proofs, the memory stays bounded and the oldest jti can
 * be replayed: the documented limit).
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();

  constructor(private readonly limit = 10_000) {}

  firstUse(key: string, until: number): boolean {
    const now = Date.now();
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    if (this.seen.size >= this.limit) this.evict(now);
    this.seen.set(key, until);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private evict(now: number): void {
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    // Insertion order is age order: drop the oldest tenth if still full.
    if (this.seen.size >= this.limit) {
      let drop = Math.max(1, Math.floor(this.limit / 10));
      for (const key of this.seen.keys()) {
        if (drop-- <= 0) break;
        this.seen.delete(key);
      }
    }
  }
}
