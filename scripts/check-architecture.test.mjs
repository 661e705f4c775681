// Tests of scripts/check-architecture.mjs on small source trees written to a
// temporary directory: `npm run check:architecture` (which runs this file after the check)
// (node --test scripts/check-architecture.test.mjs).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkArchitecture, compileLayers, LAYERS } from "./check-architecture.mjs";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "check-architecture.mjs");
const roots = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Writes { "src/x.ts": "…" } to a fresh directory and returns its path. */
function tree(files) {
  const root = mkdtempSync(join(tmpdir(), "arch-check-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A file of exactly `count` lines (each ending in a newline). */
const lines = (count) =>
  Array.from({ length: count }, (_, i) => `export const v${i} = ${i};\n`).join("");

function run(root) {
  return spawnSync(process.execPath, [SCRIPT, "--root", root], { encoding: "utf8" });
}

// One or more files in every layer, importing only downwards (or within their
// layer), through every import form and resolution rule the checker knows.
const CLEAN = {
  "src/index.ts": 'import { app } from "./app";\nexport default app;\n',
  "src/app.ts": [
    'import { Hono } from "hono";',
    'import { dev } from "./dev/routes";',
    'import { token } from "./routes/token";',
    'import { admin } from "./admin";', // admin/index.ts
    'import { page } from "./browser/page.js";', // .js → .tsx
    'import type { Config } from "./config";',
    "export const app = new Hono();",
    "export type Used = [typeof dev, typeof token, typeof admin, typeof page, Config];",
    "",
  ].join("\n"),
  "src/dev/routes.tsx": [
    'import { Layout } from "../browser/layout";', // dev may import browser/
    'import { ok } from "../http/respond";',
    "export const dev = () => ok(<Layout />);",
    "",
  ].join("\n"),
  "src/browser/layout.tsx": "export const Layout = () => <main>Don't panic</main>;\n",
  "src/browser/page.tsx": 'import { Layout } from "./layout";\nexport const page = <Layout />;\n',
  "src/routes/token.ts": [
    'import { grant } from "../grants";', // grants/index.ts
    'import { ok } from "../http/respond";',
    'import { helper } from "./helper";', // same folder of an isolated layer
    "export const token = () => ok(grant() + helper);",
    "",
  ].join("\n"),
  "src/routes/helper.ts": "export const helper = 1;\n",
  "src/admin/index.ts":
    'import { type User } from "../users/user";\nexport const admin = {} as User;\n',
  "src/console/view.ts": "export const view = 1;\n",
  "src/http/respond.ts": [
    'import { log } from "../log";',
    'export const ok = (body: unknown) => { log("ok"); return new Response(String(body)); };',
    "",
  ].join("\n"),
  "src/grants/index.ts": [
    'import { session } from "../sessions/session";',
    'import { family } from "../families/family";',
    'export * from "./grant";',
    "export const grant = () => session + family;",
    "",
  ].join("\n"),
  "src/grants/grant.ts": 'export type { Client } from "../clients/client";\n',
  "src/sessions/session.ts":
    'import { user } from "../users/user";\nexport const session = user.id;\n',
  "src/users/user.ts": [
    'import type { Signed } from "../tokens/jwt";', // same layer as sessions/, and below it
    "export type User = { id: string; token?: Signed };",
    'export const user: User = { id: "u" };',
    "",
  ].join("\n"),
  "src/families/family.ts": [
    'import { client } from "../clients/client";',
    'import { resource } from "../resources/resource";',
    "export const family = client + resource;",
    "",
  ].join("\n"),
  "src/clients/client.ts": [
    'import { sign } from "../tokens/jwt";',
    "export type Client = { id: string };",
    'export const client = sign("c");',
    "",
  ].join("\n"),
  "src/resources/resource.ts": 'export const resource = "r";\n',
  "src/tokens/jwt.ts": [
    'import * as jose from "jose";',
    'import { revoked } from "../revocation/lists";',
    'import { emit } from "../events/bus";',
    "export type Signed = string;",
    "export const sign = (s: string): Signed => { emit(s); return revoked(s) ? '' : s + jose; };",
    "",
  ].join("\n"),
  "src/revocation/lists.ts": [
    'import { now } from "../lib/time";',
    "export const revoked = (s: string) => s.length > now();",
    "",
  ].join("\n"),
  "src/events/bus.ts":
    'import type { Env } from "../env";\nexport const emit = (_: string, _e?: Env) => {};\n',
  "src/lib/time.ts": 'import { DAY } from "../config";\nexport const now = () => DAY;\n',
  "src/config.ts": "export const DAY = 86400;\nexport type Config = { day: number };\n",
  "src/log.ts":
    'import { DAY } from "./config";\nexport const log = (m: string) => console.log(m, DAY);\n',
  "src/env.ts":
    'import type { DurableObject } from "cloudflare:workers";\nexport type Env = { d?: DurableObject };\n',
  "src/lib/long.ts": lines(400),
};

describe("check-architecture", () => {
  test("a clean tree passes, with a one-line summary", () => {
    const root = tree(CLEAN);
    const result = checkArchitecture({ root });
    assert.deepEqual(
      {
        cycles: result.cycles,
        upward: result.upward,
        sideways: result.sideways,
        unknown: result.unknown,
        unresolved: result.unresolved,
        outside: result.outside,
        tooLong: result.tooLong,
      },
      {
        cycles: [],
        upward: [],
        sideways: [],
        unknown: [],
        unresolved: [],
        outside: [],
        tooLong: [],
      },
    );
    assert.equal(result.ok, true);
    assert.equal(result.modules, Object.keys(CLEAN).length);
    assert.deepEqual(result.longest, { file: "src/lib/long.ts", lines: 400 });

    const cli = run(root);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(cli.stderr, "");
    assert.match(
      cli.stdout,
      /^architecture: 25 modules, 0 cycles, 0 upward imports, longest file 400 lines \(\d+ ms\)\n$/,
    );
  });

  test("a type-only cycle fails, reported as a path", () => {
    const root = tree({
      ...CLEAN,
      "src/lib/a.ts": 'import type { B } from "./b";\nexport type A = { b?: B };\n',
      "src/lib/b.ts": 'import { type A } from "./a";\nexport type B = { a?: A };\n',
    });
    const result = checkArchitecture({ root });
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.cycles.map((cycle) => cycle.path),
      [["src/lib/a.ts", "src/lib/b.ts", "src/lib/a.ts"]],
    );
    assert.deepEqual(
      result.cycles[0].hops.map((hop) => `${hop.file}:${hop.line} ${hop.kind}`),
      ["src/lib/a.ts:1 import type", "src/lib/b.ts:1 import { type … }"],
    );
    assert.deepEqual(result.upward, []);
    // No layer rule is broken: the cycle lies within the base layer.
    assert.deepEqual(result.cyclesWithinLayers, [["src/lib/a.ts", "src/lib/b.ts", "src/lib/a.ts"]]);

    const cli = run(root);
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /cycle: src\/lib\/a\.ts -> src\/lib\/b\.ts -> src\/lib\/a\.ts\n/);
    assert.match(cli.stderr, /src\/lib\/a\.ts:1 import type "\.\/b"/);
    assert.match(cli.stderr, /architecture: FAILED: 27 modules, 1 cycle, 0 upward imports/);
    assert.equal(cli.stdout, "");
  });

  test("every import form closes a cycle", () => {
    const forms = {
      "export … from": 'export * from "./b";',
      "export type … from": 'export type { B } from "./b";',
      "dynamic import()": 'export const load = () => import("./b");',
      'typeof import("…")': 'export type M = typeof import("./b");',
      'import("…") type': 'export type T = import("./b").B;',
      "side-effect import": 'import "./b";',
      "import = require()": 'import b = require("./b");\nexport { b };',
    };
    for (const [kind, statement] of Object.entries(forms)) {
      const root = tree({
        "src/lib/a.ts": `// a comment\n${statement}\nexport type A = 1;\n`,
        "src/lib/b.ts": 'import type { A } from "./a";\nexport type B = A;\n',
      });
      const result = checkArchitecture({ root });
      assert.deepEqual(
        result.cycles.map((cycle) => cycle.path.join(" -> ")),
        ["src/lib/a.ts -> src/lib/b.ts -> src/lib/a.ts"],
        kind,
      );
      assert.equal(result.cycles[0].hops[0].kind, kind);
      assert.equal(result.cycles[0].hops[0].line, 2, kind);
    }
  });

  test("longer cycles and self-imports are found; imports in comments and strings are not", () => {
    const root = tree({
      "src/lib/a.ts": 'import { b } from "./b";\nexport const a = b;\n',
      "src/lib/b.ts": 'import { c } from "./c";\nexport const b = c;\n',
      "src/lib/c.ts": 'import type { A } from "./a";\nexport const c = 1 as unknown as A;\n',
      "src/lib/self.ts": 'import * as me from "./self";\nexport const s = me;\n',
      "src/lib/d.ts": '// import "./e"\nexport const d = `import("./e")` + \'from "./e"\';\n',
      "src/lib/e.ts": 'import { d } from "./d";\nexport const e = d;\n',
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(
      result.cycles.map((cycle) => cycle.path.join(" -> ")),
      [
        "src/lib/a.ts -> src/lib/b.ts -> src/lib/c.ts -> src/lib/a.ts",
        "src/lib/self.ts -> src/lib/self.ts",
      ],
    );
  });

  test("an upward import fails, naming both files and layers", () => {
    const root = tree({
      ...CLEAN,
      "src/tokens/issue.ts": 'import { grant } from "../grants";\nexport const issue = grant;\n',
    });
    const result = checkArchitecture({ root });
    assert.equal(result.ok, false);
    assert.deepEqual(result.cycles, []);
    assert.deepEqual(result.upward, [
      {
        file: "src/tokens/issue.ts",
        line: 1,
        specifier: "../grants",
        kind: "import",
        to: "src/grants/index.ts",
        fromLayer: "tokens",
        toLayer: "grants",
        fromRank: 9,
        toRank: 5,
      },
    ]);

    const cli = run(root);
    assert.equal(cli.status, 1);
    assert.match(
      cli.stderr,
      /src\/tokens\/issue\.ts:1 import "\.\.\/grants" -> src\/grants\/index\.ts: layer 9 "tokens" may not import layer 5 "grants"/,
    );
    assert.match(cli.stderr, /architecture: FAILED: 26 modules, 0 cycles, 1 upward import,/);
  });

  test("the shipped resource server may import nothing of the service, not even base files", () => {
    const root = tree({
      "src/lib/bytes.ts": "export const b = 1;\n",
      "src/resource-server/index.ts": 'import { b } from "../lib/bytes";\nexport const x = b;\n',
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(
      result.upward.map((v) => `${v.file} -> ${v.to} (${v.fromLayer} -> ${v.toLayer})`),
      ["src/resource-server/index.ts -> src/lib/bytes.ts (resource server -> base)"],
    );
  });

  test("type-only upward imports count, from base files too", () => {
    const root = tree({
      ...CLEAN,
      "src/env.ts": 'export type Env = { main: typeof import("./index") };\n',
      "src/config.ts":
        'import type { User } from "./users/user";\nexport type Config = User;\nexport const DAY = 1;\n',
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(
      result.upward.map((v) => `${v.file} -> ${v.to} (${v.kind}, ${v.fromLayer} -> ${v.toLayer})`),
      [
        "src/config.ts -> src/users/user.ts (import type, base -> sessions and users)",
        'src/env.ts -> src/index.ts (typeof import("…"), base -> entry)',
      ],
    );
    // Both close cycles, and each cycle shows the upward hop.
    assert.ok(result.cycles.length > 0);
    assert.deepEqual(result.cyclesWithinLayers, []);
    for (const cycle of result.cycles) {
      assert.ok(
        cycle.hops.some((hop) => hop.verdict?.startsWith("upward")),
        cycle.path.join(" -> "),
      );
    }
  });

  test("surfaces do not import each other, but dev/ may import browser/", () => {
    const root = tree({
      ...CLEAN,
      "src/routes/login.ts":
        'import { view } from "../console/view";\nexport const login = view;\n',
      "src/browser/debug.ts": 'import { dev } from "../dev/routes";\nexport const debug = dev;\n',
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(
      result.sideways.map((v) => `${v.file} -> ${v.to} (${v.fromMember} -> ${v.toMember})`),
      ["src/routes/login.ts -> src/console/view.ts (routes/ -> console/)"],
    );
    assert.deepEqual(
      result.upward.map((v) => `${v.file} -> ${v.to}`),
      ["src/browser/debug.ts -> src/dev/routes.tsx"],
    );
  });

  test("a 401-line file fails, a 400-line file passes", () => {
    const root = tree({ ...CLEAN, "src/lib/longer.ts": lines(401) });
    const result = checkArchitecture({ root });
    assert.deepEqual(result.tooLong, [{ file: "src/lib/longer.ts", lines: 401, limit: 400 }]);
    assert.deepEqual(result.longest, { file: "src/lib/longer.ts", lines: 401 });
    assert.equal(result.ok, false);

    const cli = run(root);
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /Too long: src\/lib\/longer\.ts has 401 lines \(at most 400\)/);
    assert.match(cli.stderr, /1 file over 400 lines, longest file 401 lines/);
  });

  test("a folder missing from the layer table fails", () => {
    const root = tree({
      ...CLEAN,
      "src/widgets/a.ts": 'import { DAY } from "../config";\nexport const a = DAY;\n',
      "src/widgets/deep/b.tsx": "export const b = <i />;\n",
      "src/stray.tsx": "export const s = <b />;\n",
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(result.unknown, [
      { folder: "src/stray.tsx", isFolder: false, files: ["src/stray.tsx"] },
      {
        folder: "src/widgets/",
        isFolder: true,
        files: ["src/widgets/a.ts", "src/widgets/deep/b.tsx"],
      },
    ]);
    const cli = run(root);
    assert.equal(cli.status, 1);
    assert.match(
      cli.stderr,
      /Unknown folder src\/widgets\/ \(2 files\), add it to the layer table/,
    );
  });

  test("relative imports resolve like a bundler; unresolvable ones fail", () => {
    const root = tree({
      "src/lib/x.ts": "export const x = 1;\n",
      "src/lib/x/index.ts": 'import { a } from "../a";\nexport const y = a;\n', // shadowed by x.ts
      "src/lib/a.ts":
        'import { x } from "./x";\nimport { z } from "./z";\nexport const a = x + z;\n',
      "src/lib/z/index.tsx": "export const z = 2;\n",
      "src/lib/bad.ts":
        'import { nope } from "./nope";\nimport { o } from "../../outside";\nexport const b = [nope, o];\n',
      "outside.ts": "export const o = 1;\n",
    });
    const result = checkArchitecture({ root });
    assert.deepEqual(result.cycles, []); // ./x is x.ts, not x/index.ts
    assert.deepEqual(
      result.unresolved.map((v) => `${v.file}:${v.line} ${v.specifier}`),
      ["src/lib/bad.ts:1 ./nope"],
    );
    assert.deepEqual(
      result.outside.map((v) => `${v.file}:${v.line} -> ${v.to}`),
      ["src/lib/bad.ts:2 -> outside.ts"],
    );
  });

  test("the layer table: exact files beat folders, folders beat patterns", () => {
    const place = compileLayers(LAYERS);
    assert.equal(place("index.ts").name, "entry");
    assert.equal(place("app.ts").name, "entry");
    assert.equal(place("config.ts").name, "base");
    assert.equal(place("lib/deep/x.ts").name, "base");
    assert.equal(place("dev/seed.ts").name, "dev");
    assert.equal(place("routes/token.ts").member, "routes/");
    assert.equal(place("resource-server/index.ts").name, "resource server");
    assert.equal(place("pages/x.tsx"), undefined);
    assert.equal(place("x.tsx"), undefined);
    assert.throws(
      () =>
        compileLayers([
          { name: "a", members: ["x/"] },
          { name: "b", members: ["x/"] },
        ]),
      /"x\/" is listed twice/,
    );
  });
});
