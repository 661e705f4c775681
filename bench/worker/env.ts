import type { AppEnv } from "../../src/http/context";
import type { BenchFloor } from "./floor";

/**
 * The benchmark worker's bindings: the Worker's own (wrangler.toml; its
 * TOKEN_FAMILY serves bench/worker/token-family.ts here), and BENCH_FLOOR,
 * which only bench/server.mjs binds.
 */
export interface BenchEnv extends Env {
  BENCH_FLOOR: DurableObjectNamespace<BenchFloor>;
}

/** The Hono env of the bench routes: the app's variables (config), the bench's bindings. */
export type BenchAppEnv = { Bindings: BenchEnv; Variables: AppEnv["Variables"] };
