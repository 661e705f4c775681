import type { Hono, MiddlewareHandler } from "hono";
import { requireAdmin } from "../admin/auth";
import { readJson } from "../admin/body";
import { allTallies, countingEnv, resetTallies, tallyFor } from "../bench/counting";
import type { BenchFloor } from "../bench/floor";
import { authenticateClient } from "../clients/authentication";
import { refreshPolicy } from "../clients/policy";
import { findClient, readClient } from "../clients/registry";
import { LIMITS } from "../config";
import { invalidRequest, OAuthError } from "../errors";
import { familyPolicy, familyObject as familyStub, newFamilyId } from "../families/gateway";
import type { AppContext, AppEnv } from "../http/context";
import { pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readForm } from "../http/form";
import { noStore } from "../http/no-store";
import { randomBytes, sha256, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";
import type { Params } from "../params";
import { isAccessTokenRevoked } from "../revocation/lists";
import { serverKeys } from "../server-keys";
import {
  decodeFamilyToken,
  encodeFamilyToken,
  newSecret,
  prepareSuccessor,
  secretHash,
} from "../tokens/family-token";
import { signJwt, verifyOwnJwt } from "../tokens/jwt";
import { keyRing } from "../tokens/keyring";

/**
 * Benchmark only (bench/run.mjs). Nothing here exists unless the worker runs
 * with BENCH_ROUTES=true, which only the benchmark's Miniflare config sets
 * (never wrangler.toml): every /bench path answers 404 otherwise, and the
 * counting middleware does nothing.
 *
 * - GET /bench/noop: the app's fixed cost (middleware, routing, a JSON body).
 * - GET /bench/floor: the least work any refresh must do here: one Durable
 *   Object call that reads and writes its state, one SHA-256, one ES256
 *   signature with the real key ring.
 * - GET /bench/verify-floor: the least work an access-token introspection
 *   must do: verify an ES256 JWT (Bearer) with the cached key, nothing else.
 * - Both floors also take `?with=` steps (see `ablationSteps`; POST when the
 *   step reads a form), to measure what each step of the real endpoint adds.
 * - POST /bench/families (admin): creates active families through the real
 *   TokenFamily calls (createPending, then redeem) and returns their first
 *   refresh tokens, so the benchmark can seed many families quickly.
 * - GET /bench/families/:id/storage (admin): the family's storage size.
 * - GET, DELETE /bench/counters (admin): Durable Object calls and KV reads
 *   and writes per kind of request, counted (in this isolate) for requests
 *   that carry an `x-bench-count: <kind>` header.
 */

/** Set only by the benchmark's Miniflare config, so not in the generated Env. */
type BenchBindings = AppEnv["Bindings"] & {
  BENCH_ROUTES?: string;
  BENCH_FLOOR?: DurableObjectNamespace<BenchFloor>;
};

const benchEnabled = (env: AppEnv["Bindings"]) => (env as BenchBindings).BENCH_ROUTES === "true";

/** Counts platform calls of requests marked `x-bench-count` (bench mode only). */
export const benchCounting: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (benchEnabled(c.env)) {
    const kind = c.req.header("x-bench-count");
    if (kind) {
      const tally = tallyFor(kind);
      tally.requests++;
      c.env = countingEnv(c.env, tally);
    }
  }
  await next();
};

const MAX_SEED = 1000;
const SEED_PARALLELISM = 25;
const SEED_REDIRECT_URI = "urn:bench:seed";

interface SeedRequest {
  clientId: string;
  sub: string;
  scope: string[];
  count: number;
  tokens: boolean;
}

function seedRequest(body: unknown): SeedRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const count = b.count ?? 1;
  if (typeof b.client_id !== "string" || typeof b.sub !== "string" || typeof b.scope !== "string")
    throw invalidRequest("client_id, sub and scope (strings) are required.");
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_SEED)
    throw invalidRequest(`count must be a whole number from 1 to ${MAX_SEED}.`);
  return {
    clientId: b.client_id,
    sub: b.sub,
    scope: b.scope.split(" ").filter(Boolean),
    count,
    tokens: b.tokens !== false,
  };
}

/**
 * Steps a refresh or an introspection takes beyond its floor, added one at a
 * time (`?with=kv,auth,codec,log`, in that order) so the benchmark can say what
 * costs the difference between the floor and the real endpoint:
 * - kv: the client registry read alone (`?client_id=`);
 * - auth: the form parsed and the client authenticated, as the token endpoint does;
 * - log: one audit line, as every grant writes;
 * - codec: the refresh's token work on the presented `refresh_token` (after
 *   auth): decode and check its tag, a successor's secret, tag and seal, both
 *   hashes. What is left after these is the family's state and transition,
 *   the larger RPC, the access token's claims and the response.
 */
async function ablationSteps(c: AppContext): Promise<Params | undefined> {
  const steps = c.req.query("with")?.split(",") ?? [];
  let params: Params | undefined;
  if (steps.includes("kv")) await readClient(c.env, c.req.query("client_id") ?? "");
  if (steps.includes("auth")) {
    const config = c.get("config");
    params = await readForm(c.req.raw, LIMITS.maxFormBytes);
    await authenticateClient({
      env: c.env,
      config,
      request: c.req.raw,
      params,
      endpointUrl: `${config.issuer}${c.req.path}`,
    });
  }
  if (steps.includes("codec") && params) {
    const tagKey = (await serverKeys(c.env)).tokenTag;
    const presented = await decodeFamilyToken(
      params.require("refresh_token"),
      "refresh_token",
      tagKey,
    );
    if (!presented) throw invalidRequest("The refresh token is invalid.");
    await secretHash(presented.secret);
    await prepareSuccessor(presented, tagKey);
  }
  if (steps.includes("log")) {
    audit("token.refreshed", {
      familyId: "0".repeat(64),
      clientId: "bench",
      sub: "bench",
      jti: "0".repeat(22),
      outcome: "rotated",
    });
  }
  return params;
}

export function benchRoutes(app: Hono<AppEnv>): void {
  app.use("/bench/*", async (c, next) => {
    if (!benchEnabled(c.env))
      throw new OAuthError("not_found", "There is no endpoint at this path.");
    await next();
  });
  app.use("/bench/families/*", noStore, requireAdmin);
  app.use("/bench/counters", noStore, requireAdmin);

  endpoint(app, "/bench/noop", { GET: (c) => c.json({ ok: true }) });

  const floor = async (c: AppContext) => {
    const key = c.req.query("key") ?? "floor";
    await ablationSteps(c);
    const count = await (c.env as BenchBindings).BENCH_FLOOR?.getByName(key).touch();
    if (count === undefined) throw new Error("BENCH_FLOOR is not bound");
    const digest = await sha256(randomBytes(32));
    const config = c.get("config");
    const iat = nowSeconds();
    const token = await signJwt(await keyRing(c.env, config), "at+jwt", {
      iss: config.issuer,
      sub: key,
      aud: config.issuer,
      client_id: "bench-floor",
      scope: "offline_access api:read",
      jti: toBase64Url(digest.slice(0, 16)),
      iat,
      exp: iat + 900,
      n: count,
    });
    return c.json({ token });
  };
  endpoint(app, "/bench/floor", { GET: floor, POST: floor });

  const verifyFloor = async (c: AppContext) => {
    const params = await ablationSteps(c);
    const token =
      params?.get("token") ?? /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    const config = c.get("config");
    const payload = await verifyOwnJwt(c.env, config, token, "at+jwt");
    if (payload && c.req.query("with")?.includes("revocation")) {
      const revoked = await isAccessTokenRevoked(c.env, {
        jti: String(payload.jti),
        exp: Number(payload.exp),
        ...(typeof payload.fid === "string" ? { fid: payload.fid } : {}),
      });
      return c.json({ active: !revoked });
    }
    return c.json({ active: payload !== undefined });
  };
  endpoint(app, "/bench/verify-floor", { GET: verifyFloor, POST: verifyFloor });

  endpoint(app, "/bench/families", {
    POST: async (c) => {
      const seed = seedRequest(await readJson(c.req.raw));
      const client = await findClient(c.env, seed.clientId);
      if (!client) throw invalidRequest("There is no client with this client_id.");
      const policy = familyPolicy(refreshPolicy(client, c.get("config")));
      const tagKey = (await serverKeys(c.env)).tokenTag;
      const createOne = async (): Promise<string> => {
        const familyId = newFamilyId(c.env);
        const family = familyStub(c.env, familyId);
        if (!family) throw new Error("a new family id did not resolve");
        const code = newSecret();
        const codeHash = await secretHash(code);
        await family.createPending({
          grant: {
            clientId: client.client_id,
            sub: seed.sub,
            scope: seed.scope,
            authTime: nowSeconds(),
          },
          code: {
            hash: codeHash,
            expiresAt: Date.now() + 60_000,
            redirectUri: SEED_REDIRECT_URI,
            refreshAllowed: true,
          },
        });
        const refresh = newSecret();
        const redeemed = await family.redeem({
          codeHash,
          clientId: client.client_id,
          redirectUri: SEED_REDIRECT_URI,
          refresh: { generation: 0, hash: await secretHash(refresh) },
          policy,
          accessTokenExpiresAt: Date.now() + 900_000,
        });
        if (!redeemed.ok || !redeemed.refreshIssued) throw new Error("seeding a family failed");
        return seed.tokens
          ? encodeFamilyToken(
              { kind: "refresh_token", familyId, generation: 0, secret: refresh },
              tagKey,
            )
          : familyId;
      };
      const out: string[] = [];
      for (let done = 0; done < seed.count; done += SEED_PARALLELISM) {
        const batch = Math.min(SEED_PARALLELISM, seed.count - done);
        out.push(...(await Promise.all(Array.from({ length: batch }, createOne))));
      }
      return c.json(seed.tokens ? { refresh_tokens: out } : { family_ids: out });
    },
  });

  endpoint(app, "/bench/families/:id/storage", {
    GET: async (c) => {
      const family = familyStub(c.env, pathParam(c, "id"));
      if (!family) throw new OAuthError("not_found", "There is no such family.");
      return c.json(await family.storageBytes());
    },
  });

  endpoint(app, "/bench/counters", {
    GET: (c) => c.json(allTallies()),
    DELETE: (c) => {
      resetTallies();
      return c.body(null, 204);
    },
  });
}
