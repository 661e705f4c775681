#!/usr/bin/env node
/**
 * The production bundle carries no benchmark: builds the Worker exactly as a
 * deploy does (`wrangler deploy --dry-run`, offline, into a temporary
 * directory) and looks for anything of bench/ in it: a "/bench" path, the
 * BenchFloor class, a BENCH_* binding, the counting header, the bench-only
 * TokenFamily.storageBytes, or a source file under bench/ in the source map.
 *
 *   node scripts/check-bundle.mjs     (also run by `npm test`: test/bench/bundle.test.mjs)
 *
 * Exit code 0 when the bundle is clean, 1 otherwise (each finding printed).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Strings that only the benchmark has a reason to contain. */
export const BENCH_MARKERS = ["/bench", "BenchFloor", "BENCH_", "x-bench-count", "storageBytes"];

/**
 * Builds the production bundle. Returns its files (name in the output dir →
 * text) and the source files it was built from (paths relative to `root`,
 * from the source maps).
 */
export async function buildProductionBundle(root = ROOT) {
  const outdir = await mkdtemp(join(tmpdir(), "edge-token-bundle-"));
  // The project's own Node (a devDependency) runs wrangler, whichever node runs this.
  const bin = join(root, "node_modules/.bin");
  try {
    await promisify(execFile)(
      join(bin, "wrangler"),
      ["deploy", "--dry-run", "--outdir", outdir, "--config", join(root, "wrangler.toml")],
      {
        cwd: root,
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          WRANGLER_SEND_METRICS: "false",
          WRANGLER_LOG: "error",
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const files = {};
    const sources = [];
    for (const name of await readdir(outdir, { recursive: true })) {
      const text = await readFile(join(outdir, name), "utf8").catch(() => undefined);
      // wrangler's README.md in the output dir only says when it was built.
      if (text === undefined || name === "README.md") continue;
      if (!name.endsWith(".map")) {
        files[name] = text;
        continue;
      }
      for (const source of JSON.parse(text).sources ?? [])
        sources.push(relative(root, resolve(outdir, source)));
    }
    return { files, sources };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** What of the benchmark the bundle contains, one line per finding (none: clean). */
export function benchmarkFindings({ files, sources }) {
  const findings = [];
  for (const source of sources) {
    if (source.startsWith("bench/")) findings.push(`built from ${source}`);
  }
  for (const [name, text] of Object.entries(files)) {
    for (const marker of BENCH_MARKERS) {
      const at = text.indexOf(marker);
      if (at >= 0) {
        const line = text.slice(0, at).split("\n").length;
        findings.push(`${name}:${line}: "${marker}"`);
      }
    }
  }
  return findings;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = await buildProductionBundle();
  const names = Object.keys(bundle.files);
  if (!names.some((name) => name.endsWith(".js")) || bundle.sources.length === 0) {
    console.error("check-bundle: wrangler wrote no JavaScript or no source map");
    process.exit(1);
  }
  const findings = benchmarkFindings(bundle);
  for (const finding of findings) console.error(`check-bundle: ${finding}`);
  console.error(
    findings.length === 0
      ? `check-bundle: the production bundle (${names.join(", ")}) has no benchmark`
      : `check-bundle: ${findings.length} trace(s) of the benchmark in the production bundle`,
  );
  process.exit(findings.length === 0 ? 0 : 1);
}
