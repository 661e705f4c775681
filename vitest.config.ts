import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { buildSync } from "esbuild";
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
/** The project whose tests run against the Worker (and the protected API below). */
const workerProject = "worker";
// A second Worker, a protected API using this package's ./resource-server
// export (test/fixtures/protected-api), bundled as wrangler bundles a Worker
// (esbuild, the workerd/worker/browser conditions), and given a service
// binding to the Worker under test for JWKS and introspection: no network.
// vitest-plugin runs the Worker under test as "vitest-plugin-runner-<project>"
// (getRunnerName in its pool); auxiliary workers must be plain JavaScript.
const protectedApi = {
  name: "protected-api",
  modules: true,
  compatibilityDate: "2026-11-01",
  script: buildSync({
    entryPoints: ["test/fixtures/protected-api/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    write: false,
  }).outputFiles[0]?.text as string,
  serviceBindings: {
    AUTH: `vitest-plugin-runner-${workerProject}`,
    // src/index.ts's Introspection entrypoint, reached by RPC.
    INTROSPECTION: { name: `vitest-plugin-runner-${workerProject}`, entrypoint: "Introspection" },
  },
};

// Stands in for the internet when the Worker fetches a Client ID Metadata
// Document (test/fixtures/metadata-host): bound as CLIENT_METADATA_FETCHER,
// which src/clients/metadata-document.ts uses instead of the global fetch.
const metadataHost = {
  name: "metadata-host",
  modules: true,
  compatibilityDate: "2026-11-01",
  script: buildSync({
    entryPoints: ["test/fixtures/metadata-host/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
  }).outputFiles[0]?.text as string,
};

// Stands in for the relying parties' back-channel logout endpoints
// (test/fixtures/logout-receiver): bound as BACKCHANNEL_LOGOUT_FETCHER, which
// src/sessions/logout-post.ts uses instead of the global fetch.
const logoutReceiver = {
  name: "logout-receiver",
  modules: true,
  compatibilityDate: "2026-11-01",
  script: buildSync({
    entryPoints: ["test/fixtures/logout-receiver/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
  }).outputFiles[0]?.text as string,
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
        plugins: [
          cloudflareTest({
            wrangler,
            miniflare: {
              bindings,
              serviceBindings: {
                PROTECTED_API: "protected-api",
                CLIENT_METADATA_FETCHER: "metadata-host",
                BACKCHANNEL_LOGOUT_FETCHER: "logout-receiver",
              },
              workers: [protectedApi, metadataHost, logoutReceiver],
            },
          }),
        ],
        test: {
          name: workerProject,
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
