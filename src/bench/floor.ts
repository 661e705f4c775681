import { DurableObject } from "cloudflare:workers";

/**
 * Benchmark only: the smallest Durable Object call a refresh must make, one
 * read and one write of a little state in a synchronous transaction, as the
 * TokenFamily does. Bound only by the benchmark's Miniflare config (never in
 * wrangler.toml), so a deployed worker has no namespace for it.
 */
export class BenchFloor extends DurableObject<Env> {
  touch(): number {
    const storage = this.ctx.storage;
    return storage.transactionSync(() => {
      const count = (storage.kv.get<number>("count") ?? 0) + 1;
      storage.kv.put("count", count);
      return count;
    });
  }
}
