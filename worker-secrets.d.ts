// The Worker's secrets, set with `wrangler secret put` (or .dev.vars
// locally), so they are not in wrangler.toml and `wrangler types` cannot see
// them (worker-env.d.ts is generated with --env-file=/dev/null so that a local
// .dev.vars never changes it). All may be missing: without ADMIN_TOKEN the
// admin API is off (and REGISTRATION=token refuses to start without
// REGISTRATION_TOKEN), and development falls back to built-in values (README,
// "Configuration"). Wrangler's `[secrets] required` would type them as present
// and make a deploy without them fail, which is wrong for ADMIN_TOKEN.
declare namespace Cloudflare {
  interface Env {
    ADMIN_TOKEN?: string;
    SERVER_SECRET?: string;
    REGISTRATION_TOKEN?: string;
  }
}

interface Env {
  ADMIN_TOKEN?: string;
  SERVER_SECRET?: string;
  REGISTRATION_TOKEN?: string;
}
