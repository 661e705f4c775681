#!/usr/bin/env node
// Completes package-lock.json with the platform binaries of other systems.
//
// Why: some registries (this project's build machines use one) serve only the
// Linux builds of packages such as @biomejs/cli-* and @cloudflare/workerd-*.
// `npm install` then leaves the other platforms' optional packages out of the
// lock, and `npm ci` refuses a lock that lacks them. Each is added back with
// its os/cpu, so npm skips it on a platform it does not fit without fetching
// it, and installs it normally on one it fits (from a full registry).
//
// Second, the Node engine ranges of the development tools. npm compares a
// package's `engines.node` with the Node that runs npm (the system's, which may
// be 20), but every tool here runs on the project's own Node: the pinned `node`
// devDependency is first on PATH in npm scripts and npx. A range that the pinned
// Node satisfies is therefore met, and is dropped from the lock, which is what
// `npm ci` and `npm install` check; a range the pinned Node does not satisfy is
// kept, so npm still warns about a real mismatch.
//
// Run after `npm install` changes the lock: `node scripts/complete-lock.mjs`.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const semver = createRequire(import.meta.url)("semver");

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const OS = {
  darwin: "darwin",
  linux: "linux",
  win32: "win32",
  windows: "win32",
  android: "android",
  freebsd: "freebsd",
  openbsd: "openbsd",
  netbsd: "netbsd",
  sunos: "sunos",
  aix: "aix",
};
const CPU = {
  x64: "x64",
  64: "x64",
  arm64: "arm64",
  arm: "arm",
  ia32: "ia32",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips64el: "mips64el",
};

function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.map((p) => OS[p]).find(Boolean);
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  if (!os || !cpu) return undefined;
  const libc = parts.includes("musl")
    ? ["musl"]
    : parts.includes("gnu") && os === "linux"
      ? ["glibc"]
      : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

let added = 0;
for (const [location, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = location === "" ? "" : `${location}/`;
    if (packages[`${base}node_modules/${name}`] || packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform) continue; // not a platform binary: leave it to npm
    // Keys in the order npm writes them, so a later `npm install` leaves the file as it is.
    packages[`node_modules/${name}`] = {
      version,
      cpu: platform.cpu,
      ...(meta.dev ? { dev: true } : {}),
      ...(platform.libc ? { libc: platform.libc } : {}),
      optional: true,
      os: platform.os,
    };
    added++;
  }
}
// The oldest system Node the README promises (Node 20 as it last shipped).
const NODE_20 = "20.19.0";
const pinnedNode = packages["node_modules/node"]?.version;
if (!pinnedNode) throw new Error("complete-lock: the lock has no pinned node devDependency");
let engines = 0;
for (const [location, meta] of Object.entries(packages)) {
  if (location === "" || !meta.dev || meta.optional) continue; // optional ones: npm skips them
  const range = meta.engines?.node;
  if (!range || !semver.satisfies(pinnedNode, range)) continue;
  if (semver.satisfies(NODE_20, range)) continue; // nothing to warn about on Node 20
  const { node: _met, ...rest } = meta.engines;
  if (Object.keys(rest).length > 0) meta.engines = rest;
  else delete meta.engines;
  engines++;
}

const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  `complete-lock: added ${added} platform package entr${added === 1 ? "y" : "ies"}; ` +
    `${engines} Node range${engines === 1 ? "" : "s"} met by the pinned Node ${pinnedNode}`,
);
