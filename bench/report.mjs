// Markdown for a bench/run.mjs report: every figure with its ratio to the
// floor measured in the same run (these machines are noisy; ratios travel).

const REFERENCE = {
  noop: "floor",
  floor: "floor",
  refresh: "floor",
  "refresh-openid": "floor",
  "refresh-dpop": "floor",
  code: "floor",
  "verify-floor": "verify-floor",
  introspect: "verify-floor",
};

const DESCRIPTION = {
  noop: "no-op route (middleware, routing, JSON)",
  floor: "refresh floor: 1 DO read+write, 1 SHA-256, 1 ES256 signature",
  refresh: "refresh_token grant, rotating (client_secret_basic, no openid)",
  "refresh-openid": "refresh_token grant with openid (+ ID token)",
  "refresh-dpop": "refresh_token grant with a DPoP proof (ES256, nonce; access token bound)",
  "verify-floor": "JWT-verify floor: 1 ES256 verification, cached key",
  introspect: "introspection of an access token (RFC 7662)",
  code: "full code flow: authorize, login (PBKDF2), code, token",
};

const num = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const ratio = (x, ref) => (Number.isFinite(x) && Number.isFinite(ref) && ref > 0 ? x / ref : NaN);
const withRatio = (x, ref, digits) => `${num(x, digits)} (${num(ratio(x, ref), 2)}×)`;

function throughputTable(cells) {
  const rows = [
    "| mode | C | req/s (× floor) | p50 ms (× floor) | p90 ms (× floor) | p99 ms (× floor) | errors | server CPU ms/req (× floor) |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const cell of cells) {
    const ref = cells.find(
      (c) => c.mode === REFERENCE[cell.mode] && c.concurrency === cell.concurrency,
    );
    rows.push(
      `| ${cell.mode} | ${cell.concurrency} | ${withRatio(cell.rps, ref?.rps, 0)} | ${withRatio(cell.p50, ref?.p50, 2)} | ${withRatio(cell.p90, ref?.p90, 2)} | ${withRatio(cell.p99, ref?.p99, 2)} | ${cell.errors} | ${withRatio(cell.cpuMsPerOp, ref?.cpuMsPerOp, 3)} |`,
    );
  }
  return rows.join("\n");
}

function countsTable(counts) {
  const rows = [
    "| mode | HTTP requests/op | DO calls/op | KV reads/op | KV writes/op | calls per op |",
    "|---|--:|--:|--:|--:|---|",
  ];
  for (const [mode, c] of Object.entries(counts)) {
    const calls = Object.entries(c.calls)
      .map(([k, v]) => `${k} ${num(v, 2)}`)
      .join(", ");
    rows.push(
      `| ${mode} | ${num(c.httpRequestsPerOp, 1)} | ${num(c.doCallsPerOp, 2)} | ${num(c.kvReadsPerOp, 2)} | ${num(c.kvWritesPerOp, 2)} | ${calls || "–"} |`,
    );
  }
  return rows.join("\n");
}

/** The ratio of `mode` to `reference` in each round, when there were several. */
function perRound(report, mode, reference, c) {
  if (!report.rounds || report.rounds.length < 2) return "";
  const ratios = report.rounds.map((cells) => {
    const at = (m) => cells.find((x) => x.mode === m && x.concurrency === c);
    return num(at(mode)?.rps / at(reference)?.rps, 2);
  });
  return ` (rounds: ${ratios.join(", ")})`;
}

function targets(report) {
  const lines = [];
  const mark = (ok) => (ok ? "met" : "**missed**");
  const concurrencies = [...new Set(report.cells.map((c) => c.concurrency))];
  for (const c of concurrencies) {
    const at = (mode) => report.cells.find((x) => x.mode === mode && x.concurrency === c);
    const [refresh, floor, introspect, verify, noop] = [
      at("refresh"),
      at("floor"),
      at("introspect"),
      at("verify-floor"),
      at("noop"),
    ];
    if (refresh && floor) {
      const r = refresh.rps / floor.rps;
      const net = noop
        ? `, ${num(refresh.cpuMsPerOp - noop.cpuMsPerOp, 3)} ms above the no-op route's (the floor: ${num(floor.cpuMsPerOp - noop.cpuMsPerOp, 3)} ms above it)`
        : "";
      lines.push(
        `- C=${c}: refresh at ${num(r, 2)}× the floor's req/s${perRound(report, "refresh", "floor", c)} (target ≥ 0.8: ${mark(r >= 0.8)}); ${num(refresh.cpuMsPerOp, 3)} ms server CPU per refresh (target ≤ 1 ms: ${mark(refresh.cpuMsPerOp <= 1)})${net}`,
      );
    }
    const dpop = at("refresh-dpop");
    if (dpop && refresh && verify && noop) {
      // RFC 9449 issue target: a DPoP refresh costs at most one extra
      // signature verification over a bearer refresh.
      const extra = dpop.cpuMsPerOp - refresh.cpuMsPerOp;
      const oneVerification = verify.cpuMsPerOp - noop.cpuMsPerOp;
      lines.push(
        `- C=${c}: a DPoP refresh costs ${num(extra, 3)} ms server CPU more than a bearer refresh (${num(dpop.cpuMsPerOp, 3)} vs ${num(refresh.cpuMsPerOp, 3)} ms); one ES256 verification (JWT-verify floor over the no-op route) costs ${num(oneVerification, 3)} ms: ${num(ratio(extra, oneVerification), 2)}× (target ≤ 1: ${mark(extra <= oneVerification)})`,
      );
    }
    if (introspect && verify) {
      const r = introspect.rps / verify.rps;
      lines.push(
        `- C=${c}: introspection at ${num(r, 2)}× the JWT-verify floor's req/s${perRound(report, "introspect", "verify-floor", c)} (target ≥ 0.8: ${mark(r >= 0.8)})`,
      );
    }
  }
  const counts = report.counts ?? {};
  if (counts.refresh) {
    lines.push(
      `- Durable Object calls per refresh: ${num(counts.refresh.doCallsPerOp, 2)} (target 1: ${mark(Math.abs(counts.refresh.doCallsPerOp - 1) < 0.05)}); KV writes per refresh: ${num(counts.refresh.kvWritesPerOp, 2)} (target 0: ${mark(counts.refresh.kvWritesPerOp === 0)})`,
    );
  }
  if (counts.introspect) {
    lines.push(
      `- Durable Object calls per access-token introspection: ${num(counts.introspect.doCallsPerOp, 2)} (target 0: ${mark(counts.introspect.doCallsPerOp < 0.05)})`,
    );
  }
  if (report.kv) {
    const {
      revocationKeysBefore: a,
      revocationKeysAfter: b,
      clientKeysBefore: c,
      clientKeysAfter: d,
    } = report.kv;
    lines.push(
      `- KV keys, seen from outside the worker, before and after all the cells: revocations ${a} → ${b}, clients ${c} → ${d} (the Durable Objects' own KV writes included)`,
    );
  }
  return lines.join("\n");
}

const STEP = {
  floor: "floor: 1 DO read+write, 1 SHA-256, 1 ES256 signature",
  "floor+kv": "+ one uncached KV read (what a cache miss costs; the isolate caches skip it)",
  "floor+auth":
    "+ the POST body, form parsing and client authentication (Basic, SHA-256; client from the isolate cache)",
  "floor+auth+log": "+ one audit log line",
  "floor+auth+log+codec":
    "+ the token codec (the presented token's HMAC checked, the successor's made; 2 SHA-256; AES-GCM seal)",
  refresh:
    "the real refresh (the family's state and transition, the larger RPC, the access token's claims, the response)",
  "verify-floor": "JWT-verify floor: 1 ES256 verification",
  "verify+auth":
    "+ the POST body, form parsing and client authentication (Basic, SHA-256; client from the isolate cache)",
  "verify+auth+revocation":
    "+ the revocation check (from the isolate cache; a miss is one bulk KV get of both keys)",
  introspect: "the real introspection (claims checks, response)",
};

function profileSection(profile) {
  const lines = [
    `Where the difference goes: each floor with the endpoint's steps added one at a time (C = ${profile.concurrency}, median of ${profile.rounds} round(s)). Δ is the server CPU a step adds to the one above it (median of the per-round differences). The machine is shared: read differences under about 0.1 ms as noise.`,
    "",
    "| step | req/s | p50 ms | server CPU ms/req | Δ CPU ms |",
    "|---|--:|--:|--:|--:|",
  ];
  for (const chain of Object.values(profile.chains)) {
    chain.forEach((step) => {
      const delta = step.deltaCpuMs === undefined ? "" : num(step.deltaCpuMs, 3);
      lines.push(
        `| ${STEP[step.mode] ?? step.mode} | ${num(step.rps, 0)} | ${num(step.p50, 2)} | ${num(step.cpuMsPerOp, 3)} | ${delta} |`,
      );
    });
  }
  return lines.join("\n");
}

function cpuProfileSection(cp) {
  const lines = [
    `V8 sampling profiles of our isolate (the worker and its Durable Objects) in workerd, C = ${cp.concurrency}, per request. "JS + GC" is time in JavaScript frames and garbage collection, surely ours. "Busy" adds native calls, which may include time of Miniflare's KV simulator (every isolate shares workerd's thread). The process CPU column is workerd's, for comparison. The profiles are written to bench/results/*.cpuprofile (open them in Chrome DevTools).`,
    "",
    "| mode | JS + GC ms | busy ms | workerd process CPU ms | largest self times (ms) |",
    "|---|--:|--:|--:|---|",
  ];
  for (const [mode, m] of Object.entries(cp.modes)) {
    const top = m.buckets
      .slice(0, 8)
      .map((b) => `${b.bucket} ${num(b.msPerRequest, 3)}`)
      .join("; ");
    lines.push(
      `| ${mode} | ${num(m.jsMsPerRequest, 3)} | ${num(m.busyMsPerRequest, 3)} | ${num(m.cpuMsPerOp, 3)} | ${top} |`,
    );
  }
  return lines.join("\n");
}

function scaleSection(scale) {
  const lines = [];
  const row = (s) =>
    `| ${s.families} | ${num(s.hot.p50, 2)} | ${num(s.hot.p99, 2)} | ${num(s.hot.rps, 0)} | ${num(s.cold.p50, 2)} | ${num(s.cold.p99, 2)} | ${num(s.cold.rps, 0)} | ${s.cold.n} | ${s.hot.errors + s.cold.errors} |`;
  lines.push(
    `Refresh latency against the number of families (C = ${scale.concurrency}). Hot: each client refreshes its own family over and over, so its Durable Object stays in memory. Cold: each client walks its share of all the other families, one refresh each, after 12 s of quiet (workerd evicts an object after 10 s without events), so every refresh first loads its family from disk — in production, where a client refreshes once per access-token lifetime, most refreshes are of this kind.`,
    "",
    "| families (on disk) | hot p50 ms | hot p99 ms | hot req/s | cold p50 ms | cold p99 ms | cold req/s | cold refreshes | errors |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    row(scale.small),
    row(scale.large),
    "",
    `Seeding: ${scale.seeding.created} of ${scale.seeding.requested} families requested, in ${num(scale.seeding.seconds, 0)} s (${num(scale.seeding.perSecond, 0)} families/s, each a createPending and a redeem on its own Durable Object). workerd RSS: ${scale.small.workerdRssMb} MB with the small set, ${scale.large.workerdRssMb} MB with the large one.`,
  );
  const ch = scale.chain;
  if (ch) {
    lines.push(
      "",
      `A family's storage after 1 and after ${ch.rotations} rotations, and refresh latency at the start and the end of that chain (C = 1, ${ch.window} refreshes each):`,
      "",
      "| | state bytes | storage keys | SQLite database bytes | p50 ms | p99 ms |",
      "|---|--:|--:|--:|--:|--:|",
      `| after 1 rotation | ${ch.after1.stateBytes} | ${ch.after1.keys} | ${ch.after1.databaseBytes} | ${num(ch.first.p50, 2)} | ${num(ch.first.p99, 2)} |`,
      `| after ${ch.rotations} rotations | ${ch.afterN.stateBytes} | ${ch.afterN.keys} | ${ch.afterN.databaseBytes} | ${num(ch.last.p50, 2)} | ${num(ch.last.p99, 2)} |`,
    );
    if (ch.errors) lines.push("", `Errors in the chain: ${ch.errors}.`);
  }
  return lines.join("\n");
}

export function markdownReport(report, argv) {
  const o = report.options;
  const out = [
    "## Benchmark",
    "",
    `Command: \`npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}\` — ${o.durationMs / 1000} s per cell after ${o.warmupMs / 1000} s of warm-up, median of ${o.rounds} interleaved round(s); ${report.machine.cpus} CPUs, load average ${report.machine.load} at the start, Node ${report.machine.node}; ${report.startedAt}.`,
    "",
    "Modes:",
    ...Object.keys(REFERENCE)
      .filter((m) => o.modes.includes(m))
      .map((m) => `- \`${m}\`: ${DESCRIPTION[m]}`),
    "",
    "Ratios are to the floor of the same concurrency in the same run (introspection and the JWT-verify floor to the JWT-verify floor, everything else to the refresh floor). Server CPU is workerd's user+system time over the measured window divided by the requests completed in it (for `code`, per whole flow).",
    "",
    throughputTable(report.cells),
    "",
    "Platform calls per operation, counted by the bench worker itself over 20 sequential operations:",
    "",
    countsTable(report.counts),
    "",
    "Targets:",
    "",
    targets(report),
  ];
  if (report.profile) out.push("", "### Profile", "", profileSection(report.profile));
  if (report.cpuProfile) out.push("", "### CPU profile", "", cpuProfileSection(report.cpuProfile));
  if (report.scale) out.push("", "### Scale", "", scaleSection(report.scale));
  return out.join("\n");
}
