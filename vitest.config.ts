import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd, against the real Worker with local Durable
// Objects and KV (Miniflare), configured from wrangler.toml. Only the vars
// and secrets a deployment would set are provided here.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ISSUER: "https://auth.example.test",
          ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
          SERVER_SECRET: "test-server-secret-0123456789abcdef0123456789",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 30_000,
    // Audit lines are the service working as designed; tests that care spy on console.
    onConsoleLog: (log) => !log.includes('"type":"audit"'),
  },
});
