import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

// Tests run inside workerd, against the real Worker with local Durable
// Objects and KV (Miniflare), configured from wrangler.toml. Only the vars
// and secrets a deployment would set are provided here.
const wrangler = { configPath: "./wrangler.toml" };
const bindings = {
  ISSUER: "https://auth.example.test",
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  SERVER_SECRET: "test-server-secret-0123456789abcdef0123456789",
  // The suite signs in hundreds of times a minute from one (absent) address;
  // the rate limits are tested on their own, turned on per request.
  RATE_LIMITS: "off",
};
/** The benchmark worker's tests (test/bench/worker mirrors bench/worker). */
const benchWorkerTests = "test/bench/worker/**/*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Audit lines are the service working as designed; tests that care spy on console.
    onConsoleLog: (log) => !log.includes('"type":"audit"'),
    projects: [
      {
        extends: true,
        plugins: [cloudflareTest({ wrangler, miniflare: { bindings } })],
        test: {
          name: "worker",
          include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
          exclude: [...configDefaults.exclude, benchWorkerTests],
        },
      },
      // The benchmark's worker (bench/worker/index.ts) as bench/server.mjs
      // runs it: its own entry (so TOKEN_FAMILY serves the bench's
      // TokenFamily) and the BENCH_FLOOR binding.
      {
        extends: true,
        plugins: [
          cloudflareTest({
            main: "./bench/worker/index.ts",
            wrangler,
            miniflare: {
              bindings,
              durableObjects: { BENCH_FLOOR: { className: "BenchFloor", useSQLite: true } },
            },
          }),
        ],
        test: { name: "bench", include: [benchWorkerTests] },
      },
      // In Node: builds the production bundle with wrangler (scripts/check-bundle.mjs).
      {
        extends: true,
        test: { name: "bundle", environment: "node", include: ["test/bench/bundle.test.mjs"] },
      },
    ],
  },
});
