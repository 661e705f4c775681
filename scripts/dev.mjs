// npm run dev: the service on http://localhost:8787 with its demo data, as
// `wrangler dev` runs it, after saying where to start and with what.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";

console.log(`
  Edge Token Service (development)
  Open http://localhost:${port}/ for the demo credentials and a sign-in to try:
    user demo / demo-password, client demo-confidential / demo-confidential-secret,
    public client demo-public, admin API token dev-admin-token.
  Admin console: http://localhost:${port}/console
    administrator operator / operator-password, viewer auditor / auditor-password.
`);

const wrangler = spawn(
  join(root, "node_modules", ".bin", "wrangler"),
  [
    "dev",
    "--var",
    "ENVIRONMENT:development",
    "--var",
    "REGISTRATION:open",
    "--port",
    port,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
