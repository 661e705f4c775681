import type { ReplayGuard } from "./clients/replay-guard";
import type { TokenFamily } from "./families/token-family";
import type { SigningKeys } from "./tokens/signing-keys";
import type { User } from "./users/user";
import type { Username } from "./users/username";

/** Bindings and vars of the Worker (wrangler.toml), and the two secrets. */
export interface Env {
  ENVIRONMENT: string;
  ISSUER?: string;
  SUPPORTED_SCOPES?: string;
  ACCESS_TOKEN_LIFETIME?: string;
  ID_TOKEN_LIFETIME?: string;
  AUTHORIZATION_CODE_LIFETIME?: string;
  LOGIN_SESSION_LIFETIME?: string;
  REFRESH_TOKEN_ISSUE?: string;
  REFRESH_TOKEN_ROTATION?: string;
  REFRESH_TOKEN_GRACE_SECONDS?: string;
  REFRESH_TOKEN_ABSOLUTE_LIFETIME?: string;
  REFRESH_TOKEN_IDLE_LIFETIME?: string;
  REFRESH_TOKEN_REQUIRE_OFFLINE_ACCESS?: string;
  SIGNING_KEY_ROTATION_DAYS?: string;
  CLIENT_CACHE_SECONDS?: string;
  REVOCATION_CACHE_SECONDS?: string;

  ADMIN_TOKEN?: string;
  SERVER_SECRET?: string;

  TOKEN_FAMILY: DurableObjectNamespace<TokenFamily>;
  USER: DurableObjectNamespace<User>;
  USERNAME: DurableObjectNamespace<Username>;
  SIGNING_KEYS: DurableObjectNamespace<SigningKeys>;
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  CLIENTS: KVNamespace;
  REVOCATIONS: KVNamespace;
}

type WorkerEnv = Env;

// Types `env` and `exports` from "cloudflare:workers" (used by the tests).
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "TokenFamily" | "User" | "Username" | "SigningKeys" | "ReplayGuard";
    }
  }
}
