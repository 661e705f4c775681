import { afterEach, describe, expect, it, vi } from "vitest";
import { logError } from "../src/log";

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
