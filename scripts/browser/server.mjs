/**
 * The service as a developer runs it: `wrangler dev` with
 * ENVIRONMENT=development (so the dev seed creates the demo clients, user and
 * administrators), on a free port, with a throw-away --persist-to dir.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT } from "./harness.mjs";

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function startWorker(port, persistTo) {
  const bin = join(ROOT, "node_modules", ".bin", "wrangler");
  const args = ["dev", "--var", "ENVIRONMENT:development", "--port", String(port)];
  args.push("--persist-to", persistTo);
  const child = spawn(bin, args, {
    cwd: ROOT,
    // Its own process group, so that stopping it stops workerd too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // No calls to Cloudflare for the Request.cf placeholder or for telemetry.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      NO_COLOR: "1",
    },
  });
  let log = "";
  child.stdout.on("data", (d) => {
    log += d;
  });
  child.stderr.on("data", (d) => {
    log += d;
  });
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };
  // The seed registers `${origin}/dev/callback` for the origin of the first
  // request, so the first request goes to the origin the browser will use.
  const origin = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${origin}/.well-known/openid-configuration`);
      if (res.ok && (await res.json()).issuer === origin) return { origin, stop, log: () => log };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer discovery within 60 s:\n${log}`);
}
