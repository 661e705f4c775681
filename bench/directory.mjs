// npm run bench:directory: how listing and search in the user and client
// directories scale, from 100 to 100,000 rows, measured in one run.
//
//   node bench/directory.mjs [--sizes 100,100000] [--requests 200] [--warmup 20] [--keep]
//
// The bench worker (bench/worker/index.ts, the real app plus /bench routes)
// is built offline and run in workerd by Miniflare, as `npm run bench` does.
// Rows go straight into each directory object in batches, through the
// object's own `put` (bench/worker/directory.ts): 100,000 real accounts
// would spend hours in PBKDF2. Then, for each size, sequential requests
// measure the latency (p50, p95, in ms) of:
//
//   users   GET /admin/users (the real admin endpoint, end to end):
//           the first page; a page deep in the list (via a cursor, 75% of the
//           way); a username prefix search (10 matches); an email prefix
//           search (1 match)
//   clients GET /bench/directory/clients (the ClientDirectory object's
//           page, without the admin listing's KV read-back of each row):
//           the same four, by name and by client_id
//
// and prints the 100,000-row figure over the 100-row one for each. The
// cursor of the deep page is built here in the cursor's format
// (src/lib/directory-query.ts) rather than by walking 3,750 pages.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ADMIN_TOKEN, buildWorker, startWorker } from "./server.mjs";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,100000" },
    requests: { type: "string", default: "200" },
    warmup: { type: "string", default: "20" },
    keep: { type: "boolean", default: false },
  },
});
const SIZES = flags.sizes.split(",").map(Number);
const REQUESTS = Number(flags.requests);
const WARMUP = Number(flags.warmup);
const BATCH = 10_000;
const ROOT = join(import.meta.dirname, "..");
const log = (...args) => console.error("[bench:directory]", ...args);

// The same rows as bench/worker/directory.ts makes.
const username = (i) => `user-${String(i).padStart(6, "0")}`;
const email = (i) => `mail-${String((i * 7_919) % 1_000_003).padStart(7, "0")}@example.test`;
const sub = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const clientName = (i) => `app ${String(i).padStart(6, "0")}`; // its search key
const clientId = (i) => `bench-${String(i).padStart(6, "0")}`;
const cursor = (by, key, id) => Buffer.from(JSON.stringify([by, key, id])).toString("base64url");

/** The cells of one size `n`: each a path that answers a page of rows. */
function cells(n) {
  const deep = Math.floor(n * 0.75);
  // Ten rows match at any size: user-00005x at 100, user-07120x at 100,000.
  const tens = n >= 100_000 ? "07120" : String(Math.floor(n / 20)).padStart(5, "0");
  const q = (params) => new URLSearchParams(params).toString();
  return [
    ["users: first page", `/admin/users?${q({ limit: 20 })}`],
    [
      "users: deep page (cursor)",
      `/admin/users?${q({ limit: 20, cursor: cursor("username", username(deep), sub(deep)) })}`,
    ],
    ["users: username prefix", `/admin/users?${q({ q: `user-${tens}` })}`],
    ["users: email prefix", `/admin/users?${q({ by: "email", q: email(n >> 1).slice(0, 12) })}`],
    ["clients: first page", `/bench/directory/clients?${q({ limit: 20 })}`],
    [
      "clients: deep page (cursor)",
      `/bench/directory/clients?${q({ limit: 20, cursor: cursor("name", clientName(deep), clientId(deep)) })}`,
    ],
    ["clients: name prefix", `/bench/directory/clients?${q({ q: `App ${tens}` })}`],
    [
      "clients: client_id prefix",
      `/bench/directory/clients?${q({ by: "client_id", q: clientId(n >> 1).slice(0, 11) })}`,
    ],
  ];
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function get(url) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function measure(base, path) {
  const rows = (body) => (body.users ?? body.clients).length;
  const first = await get(base + path);
  for (let i = 0; i < WARMUP; i++) await get(base + path);
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await get(base + path);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { rows: rows(first), p50: percentile(times, 50), p95: percentile(times, 95) };
}

async function fill(base, kind, from, to) {
  for (let at = from; at < to; at += BATCH) {
    const count = Math.min(BATCH, to - at);
    const res = await fetch(`${base}/bench/directory/fill`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ kind, from: at, count }),
    });
    if (res.status !== 200) throw new Error(`fill ${kind}: ${res.status} ${await res.text()}`);
  }
}

const work = mkdtempSync(join(tmpdir(), "edge-token-bench-directory-"));
let server;
try {
  log("building the bench worker");
  const script = await buildWorker(ROOT, join(work, "build"));
  server = await startWorker(ROOT, script, join(work, "state"));
  const results = new Map();
  let filled = 0;
  for (const n of SIZES) {
    const t0 = Date.now();
    await fill(server.url, "users", filled, n);
    await fill(server.url, "clients", filled, n);
    filled = n;
    log(`${n} users and ${n} clients in place (${Date.now() - t0} ms)`);
    for (const [name, path] of cells(n)) {
      const result = await measure(server.url, path);
      results.set(`${name}@${n}`, result);
      log(
        `${n} ${name}: ${result.rows} rows, p50 ${result.p50.toFixed(2)} ms, p95 ${result.p95.toFixed(2)} ms`,
      );
    }
  }
  const [small, large] = [SIZES[0], SIZES.at(-1)];
  const lines = [
    `| cell | rows | p50 at ${small} | p95 at ${small} | p50 at ${large} | p95 at ${large} | p50 ratio | p95 ratio |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [name] of cells(small)) {
    const a = results.get(`${name}@${small}`);
    const b = results.get(`${name}@${large}`);
    lines.push(
      `| ${name} | ${b.rows} | ${a.p50.toFixed(2)} ms | ${a.p95.toFixed(2)} ms | ${b.p50.toFixed(2)} ms | ${b.p95.toFixed(2)} ms | ${(b.p50 / a.p50).toFixed(2)} | ${(b.p95 / a.p95).toFixed(2)} |`,
    );
  }
  console.log(
    `${lines.join("\n")}\n\n${REQUESTS} sequential requests a cell after ${WARMUP} warm-up, one run, ${new Date().toISOString()}`,
  );
} finally {
  await server?.mf.dispose().catch(() => {});
  if (!flags.keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
