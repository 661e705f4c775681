import { type Context, Hono } from "hono";
import { requireAdmin } from "../../src/admin/auth";
import { authenticateClient } from "../../src/clients/authentication";
import { refreshPolicy } from "../../src/clients/policy";
import { findClient, readClient } from "../../src/clients/registry";
import { LIMITS } from "../../src/config";
import { invalidRequest, OAuthError } from "../../src/errors";
import { familyObject, familyPolicy, newFamilyId } from "../../src/families/gateway";
import { readForm } from "../../src/http/form";
import { readJson } from "../../src/http/json-body";
import { randomBytes, sha256, toBase64Url } from "../../src/lib/bytes";
import { audit, currentRequestId } from "../../src/log";
import { presentedCertificate } from "../../src/mtls/certificate";
import type { Params } from "../../src/params";
import { isAccessTokenRevoked } from "../../src/revocation/lists";
import { serverKeys } from "../../src/server-keys";
import {
  decodeFamilyToken,
  encodeFamilyToken,
  newSecret,
  prepareSuccessor,
  secretHash,
} from "../../src/tokens/family-token";
import { signJwt, verifyOwnJwt } from "../../src/tokens/jwt";
import { keyRing } from "../../src/tokens/keyring";
import { allTallies, resetTallies } from "./counting";
import type { BenchAppEnv } from "./env";
import type { TokenFamily } from "./token-family";

/**
 * The benchmark's reference routes, a sub-app that bench/worker/index.ts
 * mounts at /bench on the real app (so they run behind the app's global
 * middleware and its one error mapping). They exist only in the bench worker.
 *
 * - GET /bench/noop: the app's fixed cost: the global middleware (header
 *   limits, config, the development check), routing, a JSON body.
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
 *   that carry an `x-bench-count: <kind>` header (see index.ts).
 */

type BenchContext = Context<BenchAppEnv>;

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
async function ablationSteps(c: BenchContext): Promise<Params | undefined> {
  const steps = c.req.query("with")?.split(",") ?? [];
  let params: Params | undefined;
  if (steps.includes("kv")) await readClient(c.env, c.req.query("client_id") ?? "");
  if (steps.includes("auth")) {
    const config = c.get("config");
    params = await readForm(c.req.raw, LIMITS.maxFormBytes);
    await authenticateClient({
      // The verify floor stands for introspection, the refresh floor for the token endpoint.
      endpoint: c.req.path.endsWith("verify-floor") ? "introspection" : "token",
      env: c.env,
      config,
      request: c.req.raw,
      params,
      endpointUrl: `${config.issuer}${c.req.path}`,
      certificate: presentedCertificate(c.req.raw),
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

export function benchRoutes(): Hono<BenchAppEnv> {
  const app = new Hono<BenchAppEnv>();
  app.use("/families/*", requireAdmin);
  app.use("/counters", requireAdmin);

  app.get("/noop", (c) => c.json({ ok: true }));

  const floor = async (c: BenchContext) => {
    const key = c.req.query("key") ?? "floor";
    await ablationSteps(c);
    const count = await c.env.BENCH_FLOOR.getByName(key).touch();
    const digest = await sha256(randomBytes(32));
    const config = c.get("config");
    const iat = Math.floor(Date.now() / 1000);
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
  app.on(["GET", "POST"], "/floor", floor);

  const verifyFloor = async (c: BenchContext) => {
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
  app.on(["GET", "POST"], "/verify-floor", verifyFloor);

  app.post("/families", async (c) => {
    const seed = seedRequest(await readJson(c.req.raw));
    const client = await findClient(c.env, seed.clientId);
    if (!client) throw invalidRequest("There is no client with this client_id.");
    const policy = familyPolicy(refreshPolicy(client, c.get("config")));
    const tagKey = (await serverKeys(c.env)).tokenTag;
    const createOne = async (): Promise<string> => {
      const familyId = newFamilyId(c.env);
      const family = familyObject(c.env, familyId);
      if (!family) throw new Error("a new family id did not resolve");
      const code = newSecret();
      const codeHash = await secretHash(code);
      await family.createPending({
        grant: {
          clientId: client.client_id,
          sub: seed.sub,
          scope: seed.scope,
          authTime: Math.floor(Date.now() / 1000),
        },
        code: {
          hash: codeHash,
          expiresAt: Date.now() + 60_000,
          redirectUri: SEED_REDIRECT_URI,
          refreshAllowed: true,
        },
      });
      const refresh = newSecret();
      const redeemed = await family.redeem(
        {
          codeHash,
          clientId: client.client_id,
          redirectUri: SEED_REDIRECT_URI,
          refresh: { generation: 0, hash: await secretHash(refresh) },
          bindRefreshToProof: false,
          policy,
          accessTokenExpiresAt: Date.now() + 900_000,
        },
        currentRequestId(),
      );
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
  });

  app.get("/families/:id/storage", async (c) => {
    // The bench worker's TOKEN_FAMILY serves bench/worker/token-family.ts.
    const family = familyObject(c.env, c.req.param("id")) as
      | DurableObjectStub<TokenFamily>
      | undefined;
    if (!family) throw new OAuthError("not_found", "There is no such family.");
    return c.json(await family.storageBytes());
  });

  app.get("/counters", (c) => c.json(allTallies()));
  app.delete("/counters", (c) => {
    resetTallies();
    return c.body(null, 204);
  });

  return app;
}
