import { createApp } from "../../src/app";
import { countingEnv, tallyFor } from "./counting";
import { directoryRoutes } from "./directory";
import type { BenchEnv } from "./env";
import { benchRoutes } from "./routes";

/**
 * The benchmark's worker (bench/server.mjs builds it with `wrangler deploy
 * --dry-run` from this file instead of wrangler.toml's `main`): the real app,
 * as src/index.ts builds it, plus the benchmark's routes under /bench. None of
 * this is in the production bundle (scripts/check-bundle.mjs checks that).
 */

// Every production Durable Object class, as src/index.ts exports it; the
// explicit exports below take precedence over the same names in `export *`.
export * from "../../src/index";
// The directory classes with a bulk fill for bench/directory.mjs (same names,
// so USER_DIRECTORY and CLIENT_DIRECTORY serve them here).
export { ClientDirectory, UserDirectory } from "./directory";
// Bound as BENCH_FLOOR by bench/server.mjs only.
export { BenchFloor } from "./floor";
// Same class name, so wrangler.toml's TOKEN_FAMILY binding serves it here.
export { TokenFamily } from "./token-family";

/**
 * The real app (createApp(), the same function the production entry calls),
 * with the bench routes mounted on it at /bench. Mounted, not placed in front
 * of it, so a /bench request goes through the app's own global middleware
 * (header limits, config, the development check) and its one error mapping,
 * as any request does: /bench/noop measures the app's fixed cost (that
 * middleware, routing, a JSON body) and the floors pay it too. Every other
 * path is the production app's, untouched.
 */
const app = createApp();
app.route("/bench", benchRoutes());
app.route("/bench/directory", directoryRoutes());

export default {
  /**
   * A request that carries `x-bench-count: <kind>` sees bindings that count
   * its Durable Object calls and KV operations (bench/worker/counting.ts),
   * read back at /bench/counters; any other request sees the env unchanged.
   */
  fetch(request: Request, env: BenchEnv, ctx: ExecutionContext): Response | Promise<Response> {
    const kind = request.headers.get("x-bench-count");
    if (kind) {
      const tally = tallyFor(kind);
      tally.requests++;
      env = countingEnv(env, tally);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
