#!/usr/bin/env node
/**
 * Architecture check for src/: fails (exit 1) when
 *
 *   (a) a module is part of an import cycle. Every kind of import counts:
 *       `import`, `import type`, `import { type X }`, `export … from`,
 *       `import x = require()`, dynamic `import()`, `typeof import("…")` and
 *       `import("…").T` in types, and `/// <reference path>`;
 *   (b) a module imports from a layer above its own (LAYERS below), or from
 *       another folder of an `isolated` layer, or a file under src/ is in no
 *       layer ("unknown folder");
 *   (c) a .ts/.tsx file under src/ is longer than MAX_LINES lines.
 *
 * Imports are read from the TypeScript syntax tree (the project's own
 * `typescript`), not by regular expression. Relative specifiers resolve like
 * a bundler: `./x` → x (if a file), x.ts, x.tsx, x.d.ts, x/index.ts,
 * x/index.tsx, x/index.d.ts; `./x.js` also tries x.ts and x.tsx. A relative
 * import that resolves to nothing, or to a file outside src/, is an error too.
 * Bare specifiers (hono, jose, cloudflare:workers) are packages and ignored.
 *
 *   npm run check:architecture
 *   node scripts/check-architecture.mjs [--root <dir>] [--json]
 *
 * --root <dir>  check <dir>/src instead of this repository's src/
 * --json        print the full result as JSON (exit code unchanged)
 *
 * Exit code 0 and a one-line summary when clean; 1 and one message per
 * violation otherwise; 2 on a usage error or a bad layer table.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers, top to bottom. A module may import modules of its own layer and
 * of any layer below it, never one above. Members are relative to src/:
 *   "dir/"  every file under src/dir/ (at any depth)
 *   "x.ts"  exactly src/x.ts
 *   "*.ts"  top-level files matching the pattern (`*` stops at `/`)
 * An exact file beats a folder, a folder beats a pattern, and a longer folder
 * beats a shorter one. In an `isolated` layer, the members may not import
 * each other (a file may import files of its own member only).
 */
export const LAYERS = [
  { name: "entry", members: ["index.ts", "app.ts"] },
  // dev/ sits above the other surfaces: its pages reuse browser/'s layout.
  { name: "dev", members: ["dev/"] },
  { name: "surfaces", members: ["routes/", "browser/", "admin/", "console/"], isolated: true },
  // ui/: the page shells and rendering every browser-facing surface shares.
  { name: "http", members: ["http/", "ui/"] },
  { name: "grants", members: ["grants/"] },
  { name: "sessions and users", members: ["sessions/", "users/", "administrators/"] },
  { name: "families", members: ["families/"] },
  { name: "clients and resources", members: ["clients/", "resources/"] },
  { name: "tokens", members: ["tokens/", "dpop/", "mtls/"] },
  { name: "revocation and events", members: ["revocation/", "events/"] },
  // config.ts, paths.ts, errors.ts, scope.ts, log.ts, params.ts, server-keys.ts
  { name: "base", members: ["lib/", "*.ts"] },
  // Shipped alone as the package's ./resource-server export, for other
  // Workers: below everything, so it can import nothing of the service (only
  // packages: jose, and hono's types).
  { name: "resource server", members: ["resource-server/"], isolated: true },
];

/** Longest allowed .ts/.tsx file under src/, in lines. */
export const MAX_LINES = 400;

const SCRIPT = fileURLToPath(import.meta.url);
const REPO_ROOT = resolve(dirname(SCRIPT), "..");
const SOURCE_EXTENSIONS = [".ts", ".tsx"];

const toPosix = (path) => path.split(sep).join("/");

// ---------------------------------------------------------------- layers

/** Compiles the layer table into a classifier: src-relative path → member. */
export function compileLayers(layers) {
  const exact = new Map();
  const folders = [];
  const patterns = [];
  const seen = new Set();
  layers.forEach((layer, index) => {
    if (!layer.name || !Array.isArray(layer.members) || layer.members.length === 0) {
      throw new Error(`layer table: entry ${index + 1} needs a name and at least one member`);
    }
    for (const member of layer.members) {
      if (seen.has(member)) throw new Error(`layer table: "${member}" is listed twice`);
      seen.add(member);
      const entry = { layer: index, name: layer.name, member, isolated: !!layer.isolated };
      if (member.endsWith("/")) folders.push(entry);
      else if (member.includes("*")) {
        const source = member
          .split("*")
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join("[^/]*");
        patterns.push({ ...entry, regex: new RegExp(`^${source}$`) });
      } else exact.set(member, entry);
    }
  });
  folders.sort((a, b) => b.member.length - a.member.length);
  return (path) =>
    exact.get(path) ??
    folders.find((entry) => path.startsWith(entry.member)) ??
    patterns.find((entry) => entry.regex.test(path));
}

// ---------------------------------------------------------------- imports

function typeOnlyNamedImports(clause) {
  const bindings = clause.namedBindings;
  return (
    !clause.name &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/** Every module reference in one file: { specifier, line, kind }. */
export function readImports(fileName, text) {
  const kind = fileName.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, kind);
  const found = [];
  const lineOf = (position) => source.getLineAndCharacterOfPosition(position).line + 1;
  const add = (literal, what) => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({ specifier: literal.text, line: lineOf(literal.getStart(source)), kind: what });
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      add(
        node.moduleSpecifier,
        !clause
          ? "side-effect import"
          : clause.isTypeOnly
            ? "import type"
            : typeOnlyNamedImports(clause)
              ? "import { type … }"
              : "import",
      );
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly ? "export type … from" : "export … from");
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node.moduleReference.expression, "import = require()");
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], "dynamic import()");
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument)) {
        add(argument.literal, node.isTypeOf ? 'typeof import("…")' : 'import("…") type');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const reference of source.referencedFiles) {
    found.push({
      specifier: reference.fileName.startsWith(".")
        ? reference.fileName
        : `./${reference.fileName}`,
      line: lineOf(reference.pos),
      kind: "/// <reference path>",
    });
  }
  return found;
}

const isRelative = (specifier) =>
  specifier === "." ||
  specifier === ".." ||
  specifier.startsWith("./") ||
  specifier.startsWith("../") ||
  specifier.startsWith("/");

function isFile(path, cache) {
  let answer = cache.get(path);
  if (answer === undefined) {
    try {
      answer = statSync(path).isFile();
    } catch {
      answer = false;
    }
    cache.set(path, answer);
  }
  return answer;
}

/** Resolves a relative specifier like a bundler; undefined when nothing fits. */
export function resolveSpecifier(fromFile, specifier, cache = new Map()) {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base];
  const js = /\.(m|c)?jsx?$/.exec(base);
  if (js) {
    const stem = base.slice(0, -js[0].length);
    if (js[1] === "m") candidates.push(`${stem}.mts`);
    else if (js[1] === "c") candidates.push(`${stem}.cts`);
    else candidates.push(`${stem}.ts`, `${stem}.tsx`);
  }
  candidates.push(`${base}.ts`, `${base}.tsx`, `${base}.d.ts`);
  candidates.push(join(base, "index.ts"), join(base, "index.tsx"), join(base, "index.d.ts"));
  return candidates.find((candidate) => isFile(candidate, cache));
}

// ---------------------------------------------------------------- cycles

/** Strongly connected components (Tarjan), each sorted; in sorted order. */
function stronglyConnected(nodes, successors) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let counter = 0;
  const connect = (node) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of successors(node)) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), index.get(next)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of nodes) if (!index.has(node)) connect(node);
  return components.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * A short list of cycles that, together, show every import lying on a cycle
 * within one strongly connected component: for each such import u -> v, the
 * shortest cycle u -> v -> … -> u; shortest first, and a cycle is kept only
 * if it shows an import no cycle kept before it shows. (Listing every
 * elementary cycle is hopeless: one backward import can close thousands.)
 * Each cycle is [a, b, …, a], rotated to start at its smallest module.
 */
function coveringCycles(component, successors) {
  const members = new Set(component);
  const next = (node) => successors(node).filter((n) => members.has(n));
  const shortestPath = (from, to) => {
    const previous = new Map([[from, undefined]]);
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i];
      if (node === to) break;
      for (const n of next(node)) {
        if (!previous.has(n)) {
          previous.set(n, node);
          queue.push(n);
        }
      }
    }
    const path = [];
    for (let node = to; node !== undefined; node = previous.get(node)) path.unshift(node);
    return path;
  };
  const candidates = new Map();
  for (const from of component) {
    for (const to of next(from)) {
      const ring = from === to ? [from] : [from, ...shortestPath(to, from).slice(0, -1)];
      const first = ring.indexOf([...ring].sort()[0]);
      const rotated = [...ring.slice(first), ...ring.slice(0, first)];
      const cycle = [...rotated, rotated[0]];
      candidates.set(cycle.join("\0"), cycle);
    }
  }
  const ordered = [...candidates.values()].sort(
    (a, b) => a.length - b.length || (a.join("\0") < b.join("\0") ? -1 : 1),
  );
  const shown = new Set();
  const kept = [];
  for (const cycle of ordered) {
    const hops = cycle.slice(0, -1).map((node, i) => `${node}\0${cycle[i + 1]}`);
    if (hops.every((hop) => shown.has(hop))) continue;
    for (const hop of hops) shown.add(hop);
    kept.push(cycle);
  }
  return kept;
}

// ---------------------------------------------------------------- check

function listSources(srcDir) {
  return readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && SOURCE_EXTENSIONS.some((e) => entry.name.endsWith(e)))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function countLines(text) {
  if (text.length === 0) return 0;
  const breaks = text.split("\n").length - 1;
  return text.endsWith("\n") ? breaks : breaks + 1;
}

/**
 * Checks <root>/src. Paths in the result are relative to root, with `/`.
 * `ok` is true when there is nothing to report.
 */
export function checkArchitecture({
  root = REPO_ROOT,
  layers = LAYERS,
  maxLines = MAX_LINES,
} = {}) {
  const classify = compileLayers(layers);
  const srcDir = resolve(root, "src");
  const show = (path) => toPosix(relative(root, path));
  const inSrc = (path) => toPosix(relative(srcDir, path));
  const files = listSources(srcDir);
  const statCache = new Map(files.map((file) => [file, true]));

  const result = {
    root: resolve(root),
    modules: files.length,
    cycles: [],
    tangles: [],
    cyclesWithinLayers: [],
    upward: [],
    sideways: [],
    unknown: [],
    unresolved: [],
    outside: [],
    tooLong: [],
    longest: { file: undefined, lines: 0 },
    ok: true,
  };

  // Read every file: its length and its imports.
  const edges = new Map(); // file → [{ to, specifier, line, kind }]
  const nodes = new Set(files);
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const lines = countLines(text);
    if (lines > result.longest.lines) result.longest = { file: show(file), lines };
    if (lines > maxLines) result.tooLong.push({ file: show(file), lines, limit: maxLines });
    const out = [];
    for (const reference of readImports(file, text)) {
      if (!isRelative(reference.specifier)) continue;
      const at = { file: show(file), line: reference.line };
      const target = resolveSpecifier(file, reference.specifier, statCache);
      if (!target) {
        result.unresolved.push({ ...at, specifier: reference.specifier, kind: reference.kind });
      } else if (inSrc(target).startsWith("../") || inSrc(target) === "..") {
        result.outside.push({ ...at, specifier: reference.specifier, to: show(target) });
      } else {
        out.push({ to: target, ...reference });
        nodes.add(target);
      }
    }
    edges.set(file, out);
  }

  // (b) layers.
  const unknown = new Map();
  const placeOf = new Map();
  for (const node of [...nodes].sort()) {
    const path = inSrc(node);
    const place = classify(path);
    placeOf.set(node, place);
    if (!place) {
      const slash = path.indexOf("/");
      const folder = slash === -1 ? path : path.slice(0, slash + 1);
      if (!unknown.has(folder)) unknown.set(folder, []);
      unknown.get(folder).push(show(node));
    }
  }
  for (const [folder, members] of unknown) {
    result.unknown.push({
      folder: `src/${folder}`,
      isFolder: folder.endsWith("/"),
      files: members,
    });
  }
  const verdicts = new Map(); // "from\0to" → why that import breaks the layering
  for (const [file, out] of edges) {
    const from = placeOf.get(file);
    for (const edge of out) {
      const to = placeOf.get(edge.to);
      if (!from || !to) {
        verdicts.set(`${file}\0${edge.to}`, "outside the layer table");
        continue;
      }
      const violation = {
        file: show(file),
        line: edge.line,
        specifier: edge.specifier,
        kind: edge.kind,
        to: show(edge.to),
        fromLayer: from.name,
        toLayer: to.name,
      };
      const key = `${file}\0${edge.to}`;
      if (to.layer < from.layer) {
        result.upward.push({ ...violation, fromRank: from.layer + 1, toRank: to.layer + 1 });
        verdicts.set(key, `upward: ${from.name} -> ${to.name}`);
      } else if (to.layer === from.layer && from.isolated && to.member !== from.member) {
        result.sideways.push({ ...violation, fromMember: from.member, toMember: to.member });
        verdicts.set(key, `sideways: ${from.member} -> ${to.member}`);
      }
    }
  }

  // (a) cycles.
  const targets = new Map(
    [...nodes].map((node) => [node, [...new Set((edges.get(node) ?? []).map((e) => e.to))].sort()]),
  );
  const successors = (node) => targets.get(node);
  const hopOf = (from, to) => {
    const edge = edges.get(from).find((e) => e.to === to);
    const found = { file: show(from), line: edge.line, specifier: edge.specifier, kind: edge.kind };
    const verdict = verdicts.get(`${from}\0${to}`);
    return verdict ? { ...found, verdict } : found;
  };
  const cyclesOf = (next) => {
    const tangles = [];
    const cycles = [];
    for (const component of stronglyConnected([...nodes].sort(), next)) {
      if (component.length === 1 && !next(component[0]).includes(component[0])) continue;
      const found = coveringCycles(component, next);
      tangles.push({ files: component.map(show), cycles: found.length });
      for (const cycle of found) {
        cycles.push({
          path: cycle.map(show),
          hops: cycle.slice(0, -1).map((node, i) => hopOf(node, cycle[i + 1])),
        });
      }
    }
    return { tangles, cycles };
  };
  Object.assign(result, cyclesOf(successors));
  // The cycles that stay once every upward, sideways and unplaced import is
  // gone: those lie within one layer, and fixing the layering won't remove them.
  if (result.cycles.length) {
    const layered = (node) => successors(node).filter((to) => !verdicts.has(`${node}\0${to}`));
    result.cyclesWithinLayers = cyclesOf(layered).cycles.map((cycle) => cycle.path);
  } else result.cyclesWithinLayers = [];

  result.ok =
    result.cycles.length === 0 &&
    result.upward.length === 0 &&
    result.sideways.length === 0 &&
    result.unknown.length === 0 &&
    result.unresolved.length === 0 &&
    result.outside.length === 0 &&
    result.tooLong.length === 0;
  return result;
}

// ---------------------------------------------------------------- report

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The summary line: "architecture: 70 modules, 0 cycles, …". */
export function summarize(result) {
  const parts = [
    plural(result.modules, "module"),
    plural(result.cycles.length, "cycle"),
    plural(result.upward.length, "upward import"),
  ];
  if (result.sideways.length) parts.push(plural(result.sideways.length, "sideways import"));
  if (result.unknown.length) parts.push(plural(result.unknown.length, "unknown folder"));
  if (result.unresolved.length) parts.push(plural(result.unresolved.length, "unresolved import"));
  if (result.outside.length) parts.push(`${plural(result.outside.length, "import")} out of src/`);
  if (result.tooLong.length)
    parts.push(`${plural(result.tooLong.length, "file")} over ${result.tooLong[0].limit} lines`);
  const longest = result.longest.file
    ? `longest file ${result.longest.lines} lines${result.ok ? "" : ` (${result.longest.file})`}`
    : "no files";
  parts.push(longest);
  return `architecture: ${result.ok ? "" : "FAILED: "}${parts.join(", ")}`;
}

/** The full report, one string per line. */
export function report(result) {
  const lines = [];
  const importText = (v) => `${v.file}:${v.line} ${v.kind} "${v.specifier}"`;
  if (result.cycles.length) {
    lines.push(
      `Import cycles (${result.cycles.length}); every import counts, type-only and dynamic ones too.`,
      "  Listed: the shortest cycle through each import that lies on one, shortest first.",
    );
    for (const tangle of result.tangles) {
      if (tangle.files.length > 2) {
        lines.push(
          `  These ${tangle.files.length} modules all reach each other (${plural(tangle.cycles, "cycle")} below): ${tangle.files.join(", ")}`,
        );
      }
    }
    const within = result.cyclesWithinLayers;
    lines.push(
      within.length
        ? `  Without the imports marked [upward …], [sideways …] and [outside the layer table], ${plural(within.length, "cycle")} would remain, within one layer: ${within.map((path) => path.join(" -> ")).join("; ")}`
        : "  Each cycle goes through an import marked [upward …], [sideways …] or [outside the layer table]; without those, no cycle would remain.",
    );
    for (const cycle of result.cycles) {
      lines.push(`  cycle: ${cycle.path.join(" -> ")}`);
      for (const hop of cycle.hops) {
        lines.push(`      ${importText(hop)}${hop.verdict ? `  [${hop.verdict}]` : ""}`);
      }
    }
  }
  if (result.upward.length) {
    lines.push(
      `Upward imports (${result.upward.length}); a module may import its own layer and the layers below it:`,
    );
    for (const v of result.upward) {
      lines.push(
        `  ${importText(v)} -> ${v.to}: layer ${v.fromRank} "${v.fromLayer}" may not import layer ${v.toRank} "${v.toLayer}"`,
      );
    }
  }
  if (result.sideways.length) {
    lines.push(
      `Sideways imports (${result.sideways.length}); the folders of an isolated layer may not import each other:`,
    );
    for (const v of result.sideways) {
      lines.push(
        `  ${importText(v)} -> ${v.to}: "${v.fromLayer}" folders ${v.fromMember} and ${v.toMember} are separate`,
      );
    }
  }
  for (const u of result.unknown) {
    lines.push(
      u.isFolder
        ? `Unknown folder ${u.folder} (${plural(u.files.length, "file")}), add it to the layer table (LAYERS in scripts/check-architecture.mjs): ${u.files.join(", ")}`
        : `Unknown file ${u.folder}, add it to the layer table (LAYERS in scripts/check-architecture.mjs)`,
    );
  }
  for (const v of result.unresolved)
    lines.push(`Unresolved import: ${importText(v)} matches no file`);
  for (const v of result.outside)
    lines.push(`Import out of src/: ${v.file}:${v.line} "${v.specifier}" -> ${v.to}`);
  for (const v of result.tooLong)
    lines.push(`Too long: ${v.file} has ${v.lines} lines (at most ${v.limit})`);
  return lines;
}

// ---------------------------------------------------------------- CLI

function main(argv) {
  let root = REPO_ROOT;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--root" && argv[i + 1]) root = resolve(argv[++i]);
    else if (argv[i] === "--json") json = true;
    else {
      console.error(`usage: node scripts/check-architecture.mjs [--root <dir>] [--json]`);
      return 2;
    }
  }
  let result;
  try {
    result = checkArchitecture({ root });
  } catch (error) {
    console.error(`architecture: ${error.message}`);
    return 2;
  }
  if (json) console.log(JSON.stringify(result, null, 2));
  else {
    for (const line of report(result)) console.error(line);
    // performance.now() counts from process start, so this includes loading TypeScript.
    const ms = Math.round(performance.now());
    (result.ok ? console.log : console.error)(`${summarize(result)} (${ms} ms)`);
  }
  return result.ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === SCRIPT)
  process.exitCode = main(process.argv.slice(2));
