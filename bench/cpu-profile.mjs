// V8 CPU profiles of our isolate inside workerd (the worker and its Durable
// Objects), through Miniflare's inspector. Self time is attributed to source
// files through the bundle's source map, so a profile says which module of
// ours (or of hono, jose) costs what per request.
//
// Caveat: every isolate in workerd runs on one thread, so a sample taken
// while our isolate waits in a native call (a KV get) may be time spent by
// another isolate (Miniflare's KV simulator). JavaScript frames are ours.

import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import WebSocket from "ws";

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function connect(port, target) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${target}`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    const done = pending.get(message.id);
    if (!done) return;
    pending.delete(message.id);
    if (message.error) done.reject(new Error(`${target}: ${message.error.message}`));
    else done.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      pending.set(n, { resolve, reject });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Runs `work` with the V8 sampling profiler on in each target; returns the profiles. */
export async function profiled(port, targets, work, intervalMicros = 100) {
  const sessions = await Promise.all(targets.map((t) => connect(port, t)));
  for (const s of sessions) {
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: intervalMicros });
    await s.send("Profiler.start");
  }
  const result = await work();
  const profiles = {};
  for (const [i, s] of sessions.entries()) {
    profiles[targets[i]] = (await s.send("Profiler.stop")).profile;
    s.close();
  }
  return { result, profiles };
}

function bucketOf(frame, map) {
  const name = frame.functionName;
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  if (!frame.url) return `native ${name || "(anonymous)"}`;
  if (!map) return "JavaScript";
  const pos = originalPositionFor(map, {
    line: frame.lineNumber + 1,
    column: Math.max(0, frame.columnNumber),
  });
  const source = pos.source ?? "";
  const modules = source.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const parts = source.slice(modules + "node_modules/".length).split("/");
    return `node_modules/${parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const bench = source.lastIndexOf("bench/worker/");
  if (bench >= 0) return source.slice(bench);
  const src = source.lastIndexOf("src/");
  return src >= 0 ? source.slice(src) : source || "JavaScript";
}

/**
 * Self time by bucket (source file, package, native function, GC), in ms
 * per request. "(idle)" is left out: it is the isolate waiting. `jsMs` is
 * the part spent in JavaScript frames and GC, which is surely ours.
 */
export function summarize(profile, requests, sourceMapPath) {
  const map = sourceMapPath ? new TraceMap(readFileSync(sourceMapPath, "utf8")) : undefined;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const bucketOfNode = new Map();
  const ms = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    let bucket = bucketOfNode.get(id);
    if (!bucket) {
      bucket = bucketOf(nodes.get(id).callFrame, map);
      bucketOfNode.set(id, bucket);
    }
    // A sample lasts until the next one.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    ms.set(bucket, (ms.get(bucket) ?? 0) + micros / 1000);
  }
  ms.delete("(idle)");
  const total = [...ms.values()].reduce((a, b) => a + b, 0);
  const isJs = (b) =>
    b.startsWith("src/") ||
    b.startsWith("bench/worker/") ||
    b.startsWith("node_modules/") ||
    b === "JavaScript";
  const js = [...ms].filter(([b]) => isJs(b) || b === "(garbage collector)");
  return {
    busyMsPerRequest: total / requests,
    jsMsPerRequest: js.reduce((a, [, t]) => a + t, 0) / requests,
    buckets: [...ms]
      .sort((a, b) => b[1] - a[1])
      .map(([bucket, t]) => ({ bucket, msPerRequest: t / requests, share: t / total })),
  };
}
