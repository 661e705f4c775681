import { DurableObject } from "cloudflare:workers";

/**
 * The smallest Durable Object call a refresh must make: one read and one
 * write of a little state in a synchronous transaction, as the TokenFamily
 * does. Exported only by the bench worker (bench/worker/index.ts) and bound
 * only by bench/server.mjs, as BENCH_FLOOR.
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
