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
// Run after `npm install` changes the lock: `node scripts/complete-lock.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

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
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} platform package entr${added === 1 ? "y" : "ies"}`);
