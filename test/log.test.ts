import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  adminAction,
  audit,
  currentActor,
  currentRequestId,
  logError,
  NO_REQUEST_ID,
  withActor,
  withRequestId,
} from "../src/log";

afterEach(() => vi.restoreAllMocks());

/** The one JSON line logError writes for `error`. */
function logged(error: Error): { message: string; frames: string[] } {
  const spy = vi.spyOn(console, "error").mockImplementation(() => {});
  logError("test_event", error);
  return JSON.parse(String(spy.mock.calls[0]?.[0]));
}

describe("error logs (src/log.ts)", () => {
  const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

  it("keep the file and line of every stack frame: a code location is not a token", () => {
    const error = new Error("boom");
    error.stack = [
      "Error: boom",
      "    at refreshFamily (/work/app/src/families/gateway.ts:210:11)",
      "    at async grantResponse (file:///srv/worker/index.js:7925:20)",
      "    at index.js:12:3",
    ].join("\n");
    expect(logged(error).frames).toEqual([
      "at refreshFamily (/work/app/src/families/gateway.ts:210:11)",
      "at async grantResponse (file:///srv/worker/index.js:7925:20)",
      "at index.js:12:3",
    ]);
  });

  it("redact token-shaped text in messages and in the rest of a frame", () => {
    const error = new Error(`refused ${token}`);
    error.stack = [`Error: refused ${token}`, `    at ${token} (/app/src/x.ts:1:2)`].join("\n");
    const line = logged(error);
    expect(JSON.stringify(line)).not.toContain("c2lnbmF0dXJlLXNpZ25hdHVyZQ");
    expect(line.message).toContain("[redacted]");
    expect(line.frames[0]).toBe("at [redacted] (/app/src/x.ts:1:2)");
  });
});

describe("request ids (src/log.ts)", () => {
  /** Every line console.log received, parsed. */
  const written = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);

  it("a line carries the id of the request it is written for, however requests interleave their awaits", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (requests) => {
          const spy = vi.spyOn(console, "log").mockImplementation(() => {});
          try {
            // Request i writes one line per step, awaiting between them: the
            // lines of all requests interleave, as in one isolate under load.
            await Promise.all(
              requests.map((delays, i) =>
                withRequestId(`request-${i}`, async () => {
                  for (const delay of delays) {
                    await new Promise((resolve) => setTimeout(resolve, delay));
                    audit("token.issued", { count: i });
                  }
                  expect(currentRequestId()).toBe(`request-${i}`);
                }),
              ),
            );
            const lines = written(spy);
            expect(lines).toHaveLength(requests.flat().length);
            for (const line of lines) expect(line.requestId).toBe(`request-${line.count}`);
          } finally {
            spy.mockRestore();
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("a line written outside any request says so, rather than borrowing another's id", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    await withRequestId("some-request", async () => {});
    audit("token.issued", {});
    expect(written(spy)[0]?.requestId).toBe(NO_REQUEST_ID);
  });
});

describe("actors (src/log.ts)", () => {
  /** The actor field of the one line adminAction writes. */
  function actorLogged(work: () => void): unknown {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    work();
    return JSON.parse(String(spy.mock.calls.at(-1)?.[0])).actor;
  }

  it("an admin action names the actor its request runs as, else the admin token's holder", () => {
    expect(actorLogged(() => adminAction("user.blocked", { sub: "u" }))).toBe("admin");
    expect(
      actorLogged(() => withActor("alice", () => adminAction("user.blocked", { sub: "u" }))),
    ).toBe("alice");
  });

  it("withActor keeps the request's id, and parallel requests keep their own actors", async () => {
    expect(currentActor()).toBeUndefined();
    const seen = await Promise.all(
      ["alice", "bob", "carol"].map((actor, i) =>
        withRequestId(`req-${i}`, () =>
          withActor(actor, async () => {
            await new Promise((r) => setTimeout(r, 10 * (3 - i)));
            return `${currentRequestId()}:${currentActor()}`;
          }),
        ),
      ),
    );
    expect(seen).toEqual(["req-0:alice", "req-1:bob", "req-2:carol"]);
    expect(currentActor()).toBeUndefined();
  });
});
