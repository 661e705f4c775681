// The worker under test: the bench worker (bench/worker/index.ts: the real
// app plus the /bench routes), built offline exactly as `wrangler deploy`
// builds the product, then run in workerd as Miniflare's child process, with
// the bindings of wrangler.toml plus the benchmark's own (BENCH_FLOOR).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const run = promisify(execFile);

export const ISSUER = "https://auth.bench.test";
export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const SERVER_SECRET = "bench-server-secret-0123456789abcdef0123456789";

/** The bench worker's entry, relative to a checkout. */
const BENCH_ENTRY = "bench/worker/index.ts";

/**
 * A checkout from before bench/worker existed (--worker-root, for A/B runs)
 * has its /bench routes in src/, behind the BENCH_ROUTES var: its own `main`
 * is built and that var set.
 */
const hasBenchEntry = (root) => existsSync(join(root, BENCH_ENTRY));

/**
 * `wrangler deploy --dry-run` of the bench worker (the script path overrides
 * wrangler.toml's `main`; everything else is wrangler.toml's), built offline,
 * into `outdir`.
 */
export async function buildWorker(root, outdir) {
  await mkdir(outdir, { recursive: true });
  await run(
    join(root, "node_modules/.bin/wrangler"),
    [
      "deploy",
      "--dry-run",
      "--outdir",
      outdir,
      "--config",
      join(root, "wrangler.toml"),
      ...(hasBenchEntry(root) ? [join(root, BENCH_ENTRY)] : []),
    ],
    {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return join(outdir, "index.js");
}

/**
 * Starts workerd through Miniflare. Worker logs (one audit line per grant)
 * are counted, not printed: writing them to this terminal would measure the
 * terminal.
 */
export async function startWorker(root, scriptPath, stateDir, { inspectorPort } = {}) {
  const { workerOptions: w } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  const logs = { lines: 0, errors: [] };
  const options = {
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    enableDevRegistry: false,
    cf: false,
    resourcePersistencePath: stateDir,
    // The worker's own socket: requests reach it straight from workerd's HTTP
    // server, not through Miniflare's entry worker (a development proxy that
    // a deployed worker does not have, and that copies every request body).
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    ...(inspectorPort ? { inspectorPort } : {}),
    handleStructuredLogs: (entry) => {
      logs.lines++;
      if (entry.level === "error" && logs.errors.length < 20) logs.errors.push(entry.message);
    },
    name: "edge-token-service",
    modules: true,
    scriptPath,
    // Module names are relative to this; the bundle lives outside the project.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: w.compatibilityDate,
    compatibilityFlags: w.compatibilityFlags,
    bindings: {
      ...w.bindings,
      ISSUER,
      ADMIN_TOKEN,
      SERVER_SECRET,
      // The code-flow cells sign in far more often than a person would.
      RATE_LIMITS: "off",
      ...(hasBenchEntry(root) ? {} : { BENCH_ROUTES: "true" }),
    },
    kvNamespaces: Object.fromEntries(
      Object.entries(w.kvNamespaces).map(([binding, ns]) => [binding, ns.id]),
    ),
    durableObjects: {
      ...w.durableObjects,
      BENCH_FLOOR: { className: "BenchFloor", useSQLite: true },
    },
  };
  // Miniflare 5 takes a new options shape; it converts the classic (v4) one.
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  await mf.ready;
  const url = await mf.unsafeGetDirectURL();
  return { mf, url: url.origin, logs };
}

/** Descendant process ids of `pid` (from /proc), depth first. */
async function descendants(pid) {
  const children = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const list = await readFile(`/proc/${pid}/task/${task}/children`, "utf8").catch(() => "");
    for (const child of list.split(/\s+/).filter(Boolean)) {
      children.push(Number(child), ...(await descendants(Number(child))));
    }
  }
  return children;
}

/** The workerd process Miniflare started (a descendant of this process), not one of `known`. */
export async function findWorkerdPid(known = []) {
  for (const pid of await descendants(process.pid)) {
    if (known.includes(pid)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
    if (comm === "workerd") return pid;
  }
  throw new Error("no new workerd process among this process's descendants");
}
