// npm run bench: throughput, latency and server CPU of the token service in
// workerd, against reference routes measured in the same run.
//
//   node bench/run.mjs [--duration 5] [--warmup 1] [--concurrency 1,8,32]
//                      [--modes noop,floor,refresh,...] [--rounds 1]
//                      [--profile | --no-profile] [--profile-rounds 3] [--cpu-profile]
//                      [--no-scale] [--families 100000] [--rotations 10000]
//                      [--seed-budget 900] [--scale-concurrency 8]
//                      [--quick] [--keep] [--worker-root <checkout>]
//
// --quick: C = 1 and 8, 2 s cells, one round, 2,000 families, 1,000 rotations.
// The profile (each floor plus the endpoint's steps, one at a time) runs when
// a target is missed, or always with --profile. --cpu-profile attaches V8's
// profiler to our isolate and writes .cpuprofile files. --worker-root
// measures another checkout's worker with this harness (A/B experiments).
//
// The bench worker (bench/worker/index.ts: the real app plus the /bench
// routes) is built offline (`wrangler deploy --dry-run`) and run in workerd
// by Miniflare in this process; the load comes from bench/driver.mjs, a
// separate process. Results are printed as markdown and written to
// bench/results/ (gitignored). See README, "Benchmark".

import { execFileSync, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, profiled, summarize } from "./cpu-profile.mjs";
import { markdownReport } from "./report.mjs";
import { ADMIN_TOKEN, buildWorker, findWorkerdPid, ISSUER, startWorker } from "./server.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const REDIRECT_URI = "https://app.bench.test/callback";
/** workerd evicts a Durable Object after 10 s without events. */
const EVICTION_WAIT_MS = 12_000;
const ALL_MODES = [
  "noop",
  "floor",
  "refresh",
  "refresh-openid",
  "refresh-dpop",
  "verify-floor",
  "introspect",
  "code",
];

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    concurrency: { type: "string", default: "1,8,32" },
    modes: { type: "string", default: ALL_MODES.join(",") },
    quick: { type: "boolean", default: false },
    "no-scale": { type: "boolean", default: false },
    families: { type: "string", default: "100000" },
    rotations: { type: "string", default: "10000" },
    "seed-budget": { type: "string", default: "900" },
    "scale-concurrency": { type: "string", default: "8" },
    profile: { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
    "profile-rounds": { type: "string", default: "3" },
    rounds: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    "worker-root": { type: "string" },
    "cpu-profile": { type: "boolean", default: false },
  },
});

const quick = flags.quick;
const opts = {
  durationMs: Number(quick ? 2 : flags.duration) * 1000,
  warmupMs: Number(quick ? 0.5 : flags.warmup) * 1000,
  concurrency: (quick ? "1,8" : flags.concurrency).split(",").map(Number),
  modes: flags.modes.split(",").filter((m) => ALL_MODES.includes(m)),
  scale: !flags["no-scale"],
  families: Number(quick ? 2000 : flags.families),
  rotations: Number(quick ? 1000 : flags.rotations),
  seedBudgetMs: Number(flags["seed-budget"]) * 1000,
  scaleConcurrency: Number(flags["scale-concurrency"]),
  profile: flags.profile ? "always" : flags["no-profile"] ? "never" : "if-missed",
  profileRounds: Number(quick ? 1 : flags["profile-rounds"]),
  rounds: Number(quick ? 1 : flags.rounds),
  cpuProfile: flags["cpu-profile"],
};
/** The checkout whose worker is measured (another one for A/B experiments). */
const WORKER_ROOT = flags["worker-root"] ?? ROOT;
const maxC = Math.max(...opts.concurrency, opts.scaleConcurrency);
const clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

const log = (...args) => console.error("[bench]", ...args);

// ── the worker and the driver ──────────────────────────────────────────────

const work = mkdtempSync(join(tmpdir(), "edge-token-bench-"));
let servers = [];
let driver;

async function cleanup() {
  if (driver?.connected) driver.send({ type: "exit" });
  for (const s of servers) await s.mf.dispose().catch(() => {});
  if (!flags.keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

process.on("SIGINT", async () => {
  await cleanup();
  process.exit(130);
});

async function start(name, { inspect = false } = {}) {
  const t0 = Date.now();
  const stateDir = join(work, `state-${name}`);
  const inspectorPort = inspect ? await freePort() : undefined;
  const server = await startWorker(WORKER_ROOT, scriptPath, stateDir, { inspectorPort });
  const pid = await findWorkerdPid(servers.map((s) => s.pid).filter(Boolean));
  log(`workerd (${name}) pid ${pid} at ${server.url}, started in ${Date.now() - t0} ms`);
  const running = { ...server, pid, stateDir, inspectorPort };
  servers.push(running);
  return running;
}

async function stop(server) {
  await server.mf.dispose();
  servers = servers.filter((s) => s !== server);
}

let nextId = 0;
const pending = new Map();
function ask(message) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    driver.send({ ...message, id });
  });
}

function startDriver() {
  const child = fork(join(ROOT, "bench/driver.mjs"), [], { serialization: "advanced" });
  child.on("message", (m) => {
    if (m.type !== "result") return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  child.on("exit", (code) => {
    for (const p of pending.values()) p.reject(new Error(`driver exited (${code})`));
  });
  return child;
}

async function initDriver(fixtures) {
  const ready = new Promise((resolve) =>
    driver.once("message", (m) => m.type === "ready" && resolve()),
  );
  driver.send({ type: "init", fixtures });
  await ready;
}

// ── fixtures, through the real admin API ───────────────────────────────────

async function api(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function registerClient(base) {
  return api(base, "POST", "/admin/clients", {
    client_name: "Bench App",
    redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"],
    scope: "openid profile email offline_access api:read api:write",
    token_endpoint_auth_method: "client_secret_basic",
  });
}

async function inParallel(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Active families created by the TokenFamily's own calls; returns their refresh tokens. */
async function seedFamilies(base, clientId, sub, scope, count, { budgetMs = Infinity } = {}) {
  const chunk = 500;
  const chunks = [];
  for (let left = count; left > 0; left -= chunk) chunks.push(Math.min(chunk, left));
  const t0 = Date.now();
  const tokens = [];
  let lastLog = t0;
  await inParallel(chunks, 3, async (n) => {
    if (Date.now() - t0 > budgetMs) return;
    const body = await api(base, "POST", "/bench/families", {
      client_id: clientId,
      sub,
      scope,
      count: n,
    });
    tokens.push(...body.refresh_tokens);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(
        `  seeded ${tokens.length}/${count} families (${Math.round(tokens.length / ((Date.now() - t0) / 1000))}/s)`,
      );
    }
  });
  return { tokens, seconds: (Date.now() - t0) / 1000 };
}

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

/**
 * One real refresh per family of `chains` (whose tokens it advances): fresh
 * access tokens for introspection to be asked about (they live 15 minutes).
 */
async function freshAccessTokens(base, client, chains) {
  return inParallel(chains, 4, async (token, i) => {
    const res = await fetch(`${base}/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basic(client.client_id, client.client_secret),
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }).toString(),
    });
    const body = await res.json();
    if (!body.access_token) throw new Error(`priming refresh failed: ${JSON.stringify(body)}`);
    chains[i] = body.refresh_token;
    return body.access_token;
  });
}

async function kvKeyCount(server, binding) {
  const kv = await server.mf.getKVNamespace(binding);
  let count = 0;
  let cursor;
  do {
    const page = await kv.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    count += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return count;
}

/** Durable Objects of a class that have storage on disk (one SQLite file each). */
function objectsOnDisk(stateDir, className) {
  const root = join(stateDir, "do");
  let count = 0;
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory() || !dir.name.endsWith(`-${className}`)) continue;
    count += readdirSync(join(root, dir.name)).filter(
      (f) => f.endsWith(".sqlite") && f !== "metadata.sqlite",
    ).length;
  }
  return count;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

// ── the run ────────────────────────────────────────────────────────────────

const cell = (server, mode, concurrency, extra = {}) =>
  ask({
    type: "cell",
    mode,
    concurrency,
    durationMs: opts.durationMs,
    warmupMs: opts.warmupMs,
    workerdPid: server.pid,
    clkTck,
    ...extra,
  });

/**
 * The cells of a round start one mode later each round: a cell measured just
 * after a heavier one pays for some of its garbage (measured: the mode right
 * after the floor ran up to 10% slower), so no mode should always sit there.
 */
function rotated(list, round) {
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentileOf(values, p) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function mainPhase(report) {
  const server = await start("main", { inspect: opts.cpuProfile });
  const base = server.url;
  log("setting up: client, users, families");
  const client = await registerClient(base);
  const users = await inParallel(
    Array.from({ length: maxC }, (_, i) => i),
    4,
    async (i) => {
      const password = `bench-password-${i}`;
      const user = await api(base, "POST", "/admin/users", { username: `bench${i}`, password });
      return { id: user.id, username: user.username, password };
    },
  );
  const sub = users[0].id;
  const refreshPool = await seedFamilies(
    base,
    client.client_id,
    sub,
    "offline_access api:read",
    maxC,
  );
  const openidPool = await seedFamilies(
    base,
    client.client_id,
    sub,
    "openid offline_access api:read",
    maxC,
  );
  const dpopPool = await seedFamilies(base, client.client_id, sub, "offline_access api:read", maxC);
  const introspectPool = await seedFamilies(
    base,
    client.client_id,
    sub,
    "offline_access api:read",
    maxC,
  );
  const introspectChains = introspectPool.tokens;
  const accessTokens = await freshAccessTokens(base, client, introspectChains);
  const renewAccessTokens = async () =>
    ask({
      type: "set",
      key: "accessTokens",
      value: await freshAccessTokens(base, client, introspectChains),
    });

  driver = startDriver();
  await initDriver({
    baseUrl: base,
    issuer: ISSUER,
    client,
    redirectUri: REDIRECT_URI,
    users,
    accessTokens,
    pools: {
      refresh: refreshPool.tokens,
      refreshOpenid: openidPool.tokens,
      refreshDpop: dpopPool.tokens,
    },
  });

  // What each kind of request costs in platform calls, counted by the worker
  // itself (bench/worker/counting.ts), 20 sequential operations each. For the code
  // flow, user 0 consents once first: the steady state is what is reported.
  log("counting Durable Object calls and KV operations per request");
  const revocationsBefore = await kvKeyCount(server, "REVOCATIONS");
  const clientsBefore = await kvKeyCount(server, "CLIENTS");
  report.counts = {};
  for (const mode of opts.modes) {
    await api(base, "DELETE", "/bench/counters");
    if (mode === "code") await cell(server, mode, 1, { count: 1 }); // consent, once per user
    await api(base, "DELETE", "/bench/counters");
    const ops = 20;
    const run = await cell(server, mode, 1, { count: ops, countAs: mode });
    const tally = (await api(base, "GET", "/bench/counters"))[mode];
    report.counts[mode] = {
      ops: run.completed,
      errors: run.errors,
      httpRequestsPerOp: tally.requests / run.completed,
      doCallsPerOp: tally.doCalls / run.completed,
      kvReadsPerOp: tally.kvReads / run.completed,
      kvWritesPerOp: tally.kvWrites / run.completed,
      calls: Object.fromEntries(
        Object.entries(tally.calls).map(([k, v]) => [k, v / run.completed]),
      ),
    };
  }

  // Rounds interleave every cell, and each figure is the median over rounds:
  // the machine is shared, and a burst of someone else's work should move
  // one sample, not the result.
  const rounds = [];
  let consented = 1; // user 0 consented during the counting pass
  for (let round = 0; round < opts.rounds; round++) {
    if (opts.rounds > 1) log(`round ${round + 1} of ${opts.rounds}`);
    await renewAccessTokens();
    const results = [];
    for (const c of opts.concurrency) {
      for (const mode of rotated(opts.modes, round)) {
        if (mode === "code" && c > consented) {
          await cell(server, mode, c, { count: 1 }); // each user's first flow asks for consent
          consented = c;
        }
        const result = await cell(server, mode, c);
        log(
          `${mode.padEnd(14)} C=${String(c).padStart(2)}  ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  cpu ${result.cpuMsPerOp.toFixed(3)} ms/req  errors ${result.errors}`,
        );
        if (result.errorSamples.length) log("   errors:", result.errorSamples);
        results.push(result);
      }
    }
    rounds.push(results);
  }
  report.rounds = rounds;
  report.cells = opts.concurrency.flatMap((concurrency) =>
    opts.modes.map((mode) => {
      const samples = rounds.map((r) =>
        r.find((x) => x.mode === mode && x.concurrency === concurrency),
      );
      const med = (key) => median(samples.map((x) => x[key]));
      return {
        mode,
        concurrency,
        rps: med("rps"),
        p50: med("p50"),
        p90: med("p90"),
        p99: med("p99"),
        cpuMsPerOp: med("cpuMsPerOp"),
        completed: samples.reduce((n, x) => n + x.completed, 0),
        errors: samples.reduce((n, x) => n + x.errors, 0),
        workerdCpuUtil: med("workerdCpuUtil"),
        driverCpuUtil: med("driverCpuUtil"),
      };
    }),
  );
  if (opts.profile === "always" || (opts.profile === "if-missed" && targetsMissed(report))) {
    await renewAccessTokens();
    report.profile = await profilePhase(server);
  }
  if (opts.cpuProfile) {
    await renewAccessTokens();
    report.cpuProfile = await cpuProfilePhase(server);
  }
  report.kv = {
    revocationKeysBefore: revocationsBefore,
    revocationKeysAfter: await kvKeyCount(server, "REVOCATIONS"),
    clientKeysBefore: clientsBefore,
    clientKeysAfter: await kvKeyCount(server, "CLIENTS"),
  };
  report.workerLogLines = server.logs.lines;
  report.workerErrors = server.logs.errors;
  driver.send({ type: "exit" });
  await stop(server);
}

function targetsMissed(report) {
  return opts.concurrency.some((c) => {
    const at = (mode) => report.cells.find((x) => x.mode === mode && x.concurrency === c);
    const [refresh, floor, introspect, verify] = [
      "refresh",
      "floor",
      "introspect",
      "verify-floor",
    ].map(at);
    return (
      (refresh && floor && (refresh.rps < 0.8 * floor.rps || refresh.cpuMsPerOp > 1)) ||
      (introspect && verify && introspect.rps < 0.8 * verify.rps)
    );
  });
}

/**
 * What costs the difference between a floor and its endpoint: the floor with
 * the endpoint's steps added one at a time, each step measured like any cell,
 * in rounds (the median of each step is kept: this machine is shared).
 */
const PROFILE_CHAINS = {
  refresh: ["floor", "floor+auth", "floor+auth+log", "floor+auth+log+codec", "refresh"],
  introspect: ["verify-floor", "verify+auth", "verify+auth+revocation", "introspect"],
  // What the isolate caches save: a KV read, as on a cache miss.
  miss: ["floor", "floor+kv"],
};

async function profilePhase(server) {
  const c = Math.max(...opts.concurrency.filter((x) => x <= 8), 1);
  log(`profiling at C=${c}, ${opts.profileRounds} round(s)`);
  const samples = {};
  // Each mode once per round, even when several chains start from it.
  const modes = [...new Set(Object.values(PROFILE_CHAINS).flat())];
  for (let round = 0; round < opts.profileRounds; round++) {
    for (const mode of rotated(modes, round)) {
      const result = await cell(server, mode, c);
      samples[mode] = [...(samples[mode] ?? []), result];
      if (result.errors) log(`   ${mode} errors:`, result.errorSamples);
    }
  }
  // Δ is the median of the differences within each round (cells under a minute apart),
  // which drifts less than the difference of two medians.
  const chains = {};
  for (const [name, steps] of Object.entries(PROFILE_CHAINS)) {
    chains[name] = steps.map((mode, i) => ({
      mode,
      rps: median(samples[mode].map((r) => r.rps)),
      p50: median(samples[mode].map((r) => r.p50)),
      cpuMsPerOp: median(samples[mode].map((r) => r.cpuMsPerOp)),
      deltaCpuMs:
        i === 0
          ? undefined
          : median(
              samples[mode].map(
                (r, round) => r.cpuMsPerOp - samples[steps[i - 1]][round].cpuMsPerOp,
              ),
            ),
      errors: samples[mode].reduce((n, r) => n + r.errors, 0),
    }));
  }
  return { concurrency: c, rounds: opts.profileRounds, chains };
}

/**
 * Our isolate (the worker and its Durable Objects). Miniflare's own isolates
 * (entry worker, KV simulator) share workerd's thread, so their samples do
 * not tell CPU time apart from waiting; they are left out.
 */
const PROFILE_TARGET = "core:user:edge-token-service";

async function cpuProfilePhase(server) {
  const c = Math.max(...opts.concurrency.filter((x) => x <= 8), 1);
  const out = { concurrency: c, modes: {} };
  const results = join(ROOT, "bench/results");
  mkdirSync(results, { recursive: true });
  for (const mode of ["floor", "refresh", "refresh-dpop", "verify-floor", "introspect"].filter(
    (m) => opts.modes.includes(m),
  )) {
    log(`CPU profile of ${mode} at C=${c}`);
    const { result, profiles } = await profiled(server.inspectorPort, [PROFILE_TARGET], () =>
      cell(server, mode, c, { warmupMs: 0 }),
    );
    const profile = profiles[PROFILE_TARGET];
    writeFileSync(join(results, `${runStamp}-${mode}.cpuprofile`), JSON.stringify(profile));
    out.modes[mode] = {
      requests: result.completed,
      cpuMsPerOp: result.cpuMsPerOp,
      ...summarize(profile, result.completed, `${scriptPath}.map`),
    };
  }
  return out;
}

async function scalePhase(report) {
  const server = await start("scale");
  const base = server.url;
  const C = opts.scaleConcurrency;
  const client = await registerClient(base);
  const sub = "00000000-0000-4000-8000-000000000000";
  const scope = "offline_access api:read";
  const small = 100;

  // Hot: C families refreshed over and over (each client its own), so their
  // Durable Objects stay in memory. Cold: every other family refreshed once,
  // after workerd has evicted idle objects (10 s of inactivity), so each
  // refresh first loads its object from disk, as most refreshes do in
  // production (one every access-token lifetime).
  const hot = await seedFamilies(base, client.client_id, sub, scope, C);
  const spreadSmall = await seedFamilies(base, client.client_id, sub, scope, small - C);
  driver = startDriver();
  await initDriver({
    baseUrl: base,
    client,
    redirectUri: REDIRECT_URI,
    users: [],
    accessTokens: [],
    pools: { refresh: hot.tokens, spread: spreadSmall.tokens },
  });
  const measure = async (label, coldRounds, coldPerClient) => {
    const families = objectsOnDisk(server.stateDir, "TokenFamily");
    // Let workerd settle first: seeding leaves thousands of objects to evict.
    await new Promise((r) => setTimeout(r, EVICTION_WAIT_MS));
    const chains = await cell(server, "refresh", C);
    const latencies = [];
    let errors = 0;
    let seconds = 0;
    for (let round = 0; round < coldRounds; round++) {
      await new Promise((r) => setTimeout(r, EVICTION_WAIT_MS));
      const run = await cell(server, "refresh-spread", C, { count: coldPerClient });
      latencies.push(...run.latencies);
      errors += run.errors;
      seconds += run.seconds;
      if (run.errors) log("   cold errors:", run.errorSamples);
    }
    const cold = {
      n: latencies.length,
      p50: percentileOf(latencies, 50),
      p99: percentileOf(latencies, 99),
      rps: latencies.length / seconds,
      errors,
    };
    log(
      `${label}: ${families} families; hot p50 ${chains.p50.toFixed(2)} p99 ${chains.p99.toFixed(2)} ms; cold p50 ${cold.p50.toFixed(2)} p99 ${cold.p99.toFixed(2)} ms (n=${cold.n})`,
    );
    return { families, hot: chains, cold, workerdRssMb: rssMb(server.pid) };
  };
  const smallPerClient = Math.floor((small - C) / C);
  report.scale = {
    concurrency: C,
    small: await measure("small", 4, smallPerClient),
  };

  log(`seeding up to ${opts.families} families (budget ${opts.seedBudgetMs / 1000} s)`);
  const more = await seedFamilies(base, client.client_id, sub, scope, opts.families - small, {
    budgetMs: opts.seedBudgetMs,
  });
  report.scale.seeding = {
    requested: opts.families,
    created: more.tokens.length + small,
    seconds: more.seconds,
    perSecond: more.tokens.length / more.seconds,
  };
  await ask({ type: "pool", name: "spread", tokens: more.tokens, append: true });
  report.scale.large = await measure("large", 1, 4 * smallPerClient);

  // Chain length: one family, 1 rotation, then `rotations` in all.
  log(`rotating one family ${opts.rotations} times`);
  const chain = await seedFamilies(base, client.client_id, sub, scope, 1);
  const familyId = chain.tokens[0].split(".")[1];
  await ask({ type: "pool", name: "refresh", tokens: chain.tokens });
  await cell(server, "refresh", 1, { count: 1 });
  const after1 = await api(base, "GET", `/bench/families/${familyId}/storage`);
  const rotations = await cell(server, "refresh", 1, { count: opts.rotations - 1 });
  const afterN = await api(base, "GET", `/bench/families/${familyId}/storage`);
  const lat = rotations.latencies;
  const window = Math.min(1000, Math.floor(lat.length / 2));
  const first = lat.slice(0, window);
  const last = lat.slice(-window);
  report.scale.chain = {
    rotations: opts.rotations,
    errors: rotations.errors,
    after1,
    afterN,
    window,
    first: { p50: percentileOf(first, 50), p99: percentileOf(first, 99) },
    last: { p50: percentileOf(last, 50), p99: percentileOf(last, 99) },
  };
  driver.send({ type: "exit" });
  await stop(server);
}

let scriptPath;
const runStamp = new Date().toISOString().replace(/[:.]/g, "-");
try {
  log(`building the worker (wrangler deploy --dry-run) into ${work}`);
  scriptPath = await buildWorker(WORKER_ROOT, join(work, "build"));
  const report = {
    startedAt: new Date().toISOString(),
    options: opts,
    machine: {
      cpus: Number(execFileSync("nproc", { encoding: "utf8" }).trim()),
      load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
      node: process.version,
    },
  };
  await mainPhase(report);
  if (opts.scale) await scalePhase(report);
  report.finishedAt = new Date().toISOString();
  const markdown = markdownReport(report, process.argv.slice(2));
  console.log(markdown);
  const results = join(ROOT, "bench/results");
  mkdirSync(results, { recursive: true });
  const stamp = runStamp;
  writeFileSync(join(results, `${stamp}.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(results, `${stamp}.md`), markdown);
  log(`written bench/results/${stamp}.{md,json}`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
