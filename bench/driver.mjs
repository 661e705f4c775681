// The load generator: a separate process (forked by bench/run.mjs) so that
// the clients never share a CPU thread with Miniflare. It runs C concurrent
// async clients over keep-alive connections, and reads the workerd process's
// CPU time from /proc at the edges of each measured window.
//
// Protocol (IPC): {type:"init", ...} once, then {type:"cell", id, ...} per
// measurement; each cell is answered with {type:"result", id, ...}.

import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";

/** @type {any} */
let fx; // fixtures from run.mjs: base URL, client, users, token pools
/** @type {Pool} */
let pool;

const b64url = (buf) => buf.toString("base64url");
const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

class OpError extends Error {}

async function send(path, { method = "GET", headers = {}, body } = {}) {
  const res = await pool.request({ path, method, headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function expectStatus(res, statuses, what) {
  if (!statuses.includes(res.status))
    throw new OpError(`${what}: HTTP ${res.status} ${res.text.slice(0, 160)}`);
}

const form = (params) => new URLSearchParams(params).toString();
const FORM = "application/x-www-form-urlencoded";

// ── the operations, one per mode ─────────────────────────────────────────

async function refreshOnce(poolName, index, countAs) {
  const tokens = fx.pools[poolName];
  const headers = {
    "content-type": FORM,
    authorization: basic(fx.client.client_id, fx.client.client_secret),
    ...(countAs ? { "x-bench-count": countAs } : {}),
  };
  const body = form({ grant_type: "refresh_token", refresh_token: tokens[index] });
  let res = await send("/token", { method: "POST", headers, body });
  // A failed response may still have rotated the token: the grace window
  // answers the same successor to one retry of the same token.
  if (res.status >= 500) res = await send("/token", { method: "POST", headers, body });
  expectStatus(res, [200], "refresh");
  const json = JSON.parse(res.text);
  if (!json.refresh_token || !json.access_token) throw new OpError("refresh: no tokens");
  tokens[index] = json.refresh_token;
}

// DPoP (RFC 9449): one ES256 key per client index, proofs made here (the
// driver's CPU, not the server's), and the nonce as each client keeps its own:
// learned from use_dpop_nonce, then from each response's DPoP-Nonce (a
// refresh's is its grant's own, src/dpop/nonce.ts).
const dpopKeys = new Map();
const dpopNonces = new Map();

function dpopKey(i) {
  let key = dpopKeys.get(i);
  if (!key) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
    key = { privateKey, jwk: { kty, crv, x, y } };
    dpopKeys.set(i, key);
  }
  return key;
}

function dpopProof(i, htm, htu) {
  const { privateKey, jwk } = dpopKey(i);
  const dpopNonce = dpopNonces.get(i);
  const enc = (o) => b64url(Buffer.from(JSON.stringify(o)));
  const input = `${enc({ typ: "dpop+jwt", alg: "ES256", jwk })}.${enc({
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(dpopNonce ? { nonce: dpopNonce } : {}),
  })}`;
  const signature = sign("sha256", Buffer.from(input), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${input}.${b64url(signature)}`;
}

async function refreshDpopOnce(index, countAs) {
  const tokens = fx.pools.refreshDpop;
  const body = form({ grant_type: "refresh_token", refresh_token: tokens[index] });
  const request = () =>
    send("/token", {
      method: "POST",
      headers: {
        "content-type": FORM,
        authorization: basic(fx.client.client_id, fx.client.client_secret),
        // htu is the token endpoint as discovery names it (under ISSUER).
        dpop: dpopProof(index, "POST", `${fx.issuer}/token`),
        ...(countAs ? { "x-bench-count": countAs } : {}),
      },
      body,
    });
  let res = await request();
  if (res.status === 400 && res.text.includes("use_dpop_nonce")) {
    dpopNonces.set(index, res.headers["dpop-nonce"]);
    res = await request();
  }
  if (res.status >= 500) res = await request();
  expectStatus(res, [200], "refresh-dpop");
  if (res.headers["dpop-nonce"]) dpopNonces.set(index, res.headers["dpop-nonce"]);
  const json = JSON.parse(res.text);
  if (json.token_type !== "DPoP" || !json.refresh_token)
    throw new OpError("refresh-dpop: not bound");
  tokens[index] = json.refresh_token;
}

const modes = {
  noop: (_i, countAs) =>
    send("/bench/noop", { headers: countAs ? { "x-bench-count": countAs } : {} }).then((r) =>
      expectStatus(r, [200], "noop"),
    ),
  floor: (i, countAs) =>
    send(`/bench/floor?key=client-${i}`, {
      headers: countAs ? { "x-bench-count": countAs } : {},
    }).then((r) => expectStatus(r, [200], "floor")),
  refresh: (i, countAs) => refreshOnce("refresh", i, countAs),
  "refresh-openid": (i, countAs) => refreshOnce("refreshOpenid", i, countAs),
  "refresh-dpop": (i, countAs) => refreshDpopOnce(i, countAs),
  "verify-floor": async (i, countAs) => {
    const res = await send("/bench/verify-floor", {
      headers: {
        authorization: `Bearer ${fx.accessTokens[i]}`,
        ...(countAs ? { "x-bench-count": countAs } : {}),
      },
    });
    expectStatus(res, [200], "verify-floor");
    if (!res.text.includes('"active":true')) throw new OpError("verify-floor: inactive");
  },
  introspect: async (i, countAs) => {
    const res = await send("/introspect", {
      method: "POST",
      headers: {
        "content-type": FORM,
        authorization: basic(fx.client.client_id, fx.client.client_secret),
        ...(countAs ? { "x-bench-count": countAs } : {}),
      },
      body: form({ token: fx.accessTokens[i] }),
    });
    expectStatus(res, [200], "introspect");
    if (!res.text.includes('"active":true')) throw new OpError("introspect: inactive");
  },
  code: (i, countAs) => codeFlow(i, countAs),
};

// Profile: the floors with the real endpoint's steps added one at a time
// (bench/worker/routes.ts, `ablationSteps`).
const clientAuth = () => basic(fx.client.client_id, fx.client.client_secret);
const floorWith = (steps) => async (i) => {
  const post = steps.includes("auth");
  const res = await send(
    `/bench/floor?key=client-${i}&with=${steps}&client_id=${encodeURIComponent(fx.client.client_id)}`,
    post
      ? {
          method: "POST",
          headers: { "content-type": FORM, authorization: clientAuth() },
          body: form({ grant_type: "refresh_token", refresh_token: fx.pools.refresh[i] }),
        }
      : {},
  );
  expectStatus(res, [200], `floor+${steps}`);
};
const verifyWith = (steps) => async (i) => {
  const res = await send(`/bench/verify-floor?with=${steps}`, {
    method: "POST",
    headers: { "content-type": FORM, authorization: clientAuth() },
    body: form({ token: fx.accessTokens[i] }),
  });
  expectStatus(res, [200], `verify+${steps}`);
  if (!res.text.includes('"active":true')) throw new OpError(`verify+${steps}: inactive`);
};
modes["floor+kv"] = floorWith("kv");
modes["floor+log"] = floorWith("log");
modes["floor+auth"] = floorWith("auth");
modes["floor+auth+log"] = floorWith("auth,log");
modes["floor+auth+log+codec"] = floorWith("auth,log,codec");
modes["verify+auth"] = verifyWith("auth");
modes["verify+auth+revocation"] = verifyWith("auth,revocation");

// Scale: each client walks its share of a large pool, one refresh per family
// in turn, so that (with many families) nearly every refresh meets a family
// not refreshed before in this cell.
const cursors = new Map();
modes["refresh-spread"] = (i, countAs, c) => {
  const tokens = fx.pools.spread;
  const perClient = Math.floor(tokens.length / c);
  const step = cursors.get(i) ?? 0;
  cursors.set(i, step + 1);
  return refreshOnce("spread", i + (step % perClient) * c, countAs);
};

// ── the authorization code flow, as a browser with a fresh cookie jar ─────

const HIDDEN = /<input type="hidden" name="([^"]+)" value="([^"]*)"/g;
const unescapeHtml = (s) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

class Jar {
  cookies = new Map();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(res) {
    const set = res.headers["set-cookie"];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      if (attributes.some((a) => /max-age=0/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }
}

async function codeFlow(i, countAs) {
  const user = fx.users[i];
  const jar = new Jar();
  const extra = countAs ? { "x-bench-count": countAs } : {};
  const browser = async (path, init = {}) => {
    const res = await send(path, {
      ...init,
      headers: { ...(init.headers ?? {}), cookie: jar.header(), ...extra },
    });
    jar.take(res);
    return res;
  };
  const submit = (html, fields) => {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new OpError("code: the page has no form");
    const body = new URLSearchParams();
    for (const m of html.matchAll(HIDDEN)) body.set(m[1], unescapeHtml(m[2]));
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return browser(action, {
      method: "POST",
      headers: { "content-type": FORM, origin: fx.baseUrl },
      body: body.toString(),
    });
  };

  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const query = new URLSearchParams({
    response_type: "code",
    client_id: fx.client.client_id,
    redirect_uri: fx.redirectUri,
    scope: "openid profile offline_access api:read",
    state: b64url(randomBytes(8)),
    nonce: b64url(randomBytes(8)),
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  let res = await browser(`/authorize?${query}`);
  expectStatus(res, [200], "code: authorize");
  res = await submit(res.text, { username: user.username, password: user.password });
  if (res.status === 200 && res.text.includes('name="decision"'))
    res = await submit(res.text, { decision: "allow" });
  expectStatus(res, [302, 303], "code: login/consent");
  const code = new URL(res.headers.location).searchParams.get("code");
  if (!code) throw new OpError(`code: no code in the redirect (${res.headers.location})`);
  const token = await send("/token", {
    method: "POST",
    headers: {
      "content-type": FORM,
      authorization: basic(fx.client.client_id, fx.client.client_secret),
      ...extra,
    },
    body: form({
      grant_type: "authorization_code",
      code,
      redirect_uri: fx.redirectUri,
      code_verifier: verifier,
    }),
  });
  expectStatus(token, [200], "code: token");
  if (!JSON.parse(token.text).refresh_token) throw new OpError("code: no refresh token");
}

// ── measurement ──────────────────────────────────────────────────────────

function cpuTicks(pid) {
  // /proc/<pid>/stat: the comm field may hold spaces; fields after ")" are fixed.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

function percentile(sorted, p) {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  };
}

/**
 * A timed cell: C clients run `mode` for warmup + duration; only operations
 * completed inside the measured window count, and the window's edges are
 * where workerd's CPU time is read.
 */
async function timedCell({ mode, concurrency, durationMs, warmupMs, workerdPid, clkTck }) {
  const op = modes[mode];
  const latencies = [];
  const errors = [];
  let errorCount = 0;
  let measuring = false;
  let stop = false;
  let completed = 0;

  const client = async (i) => {
    while (!stop) {
      const t0 = performance.now();
      try {
        await op(i, undefined, concurrency);
        if (measuring) {
          latencies.push(performance.now() - t0);
          completed++;
        }
      } catch (error) {
        if (measuring) errorCount++;
        if (errors.length < 5) errors.push(String(error.message ?? error).slice(0, 200));
        // A broken refresh chain cannot continue; every other mode can.
        if (mode.startsWith("refresh")) return;
      }
    }
  };
  const running = Array.from({ length: concurrency }, (_, i) => client(i));
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = cpuTicks(workerdPid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, durationMs));
  stop = true;
  await Promise.all(running);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = cpuTicks(workerdPid);
  const self = process.cpuUsage(self0);
  const cpuMs = ((cpu1 - cpu0) * 1000) / clkTck;
  return {
    mode,
    concurrency,
    seconds: elapsed,
    completed,
    rps: completed / elapsed,
    ...summary(latencies),
    errors: errorCount,
    errorSamples: errors,
    cpuMsPerOp: completed ? cpuMs / completed : Number.NaN,
    workerdCpuUtil: cpuMs / 1000 / elapsed,
    driverCpuUtil: (self.user + self.system) / 1e6 / elapsed,
  };
}

/** A counted cell: exactly `count` operations per client, latencies kept in order. */
async function countedCell({ mode, concurrency, count, countAs }) {
  const latencies = [];
  let errorCount = 0;
  const errors = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      for (let n = 0; n < count; n++) {
        const start = performance.now();
        try {
          await modes[mode](i, countAs, concurrency);
          latencies.push(performance.now() - start);
        } catch (error) {
          errorCount++;
          if (errors.length < 5) errors.push(String(error.message ?? error).slice(0, 200));
          if (mode.startsWith("refresh")) return;
        }
      }
    }),
  );
  return {
    mode,
    concurrency,
    completed: latencies.length,
    seconds: (performance.now() - t0) / 1000,
    latencies,
    errors: errorCount,
    errorSamples: errors,
  };
}

process.on("message", async (message) => {
  try {
    if (message.type === "init") {
      fx = message.fixtures;
      pool = new Pool(fx.baseUrl, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
      process.send({ type: "ready" });
    } else if (message.type === "pool") {
      // `append` keeps the tokens already held: they have rotated since run.mjs saw them.
      fx.pools[message.name] = message.append
        ? [...(fx.pools[message.name] ?? []), ...message.tokens]
        : message.tokens;
      cursors.clear();
      process.send({ type: "result", id: message.id });
    } else if (message.type === "set") {
      fx[message.key] = message.value;
      process.send({ type: "result", id: message.id });
    } else if (message.type === "cell") {
      const result = message.count ? await countedCell(message) : await timedCell(message);
      process.send({ type: "result", id: message.id, result });
    } else if (message.type === "tokens") {
      process.send({ type: "result", id: message.id, result: fx.pools[message.name] });
    } else if (message.type === "exit") {
      await pool.close();
      process.exit(0);
    }
  } catch (error) {
    process.send({ type: "result", id: message.id, error: String(error?.stack ?? error) });
  }
});
