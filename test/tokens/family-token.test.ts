import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../src/lib/bytes";
import {
  claimedKind,
  decodeFamilyToken,
  encodeFamilyToken,
  type FamilyToken,
  type FamilyTokenKind,
  MAX_FAMILY_TOKEN_LENGTH,
  newSecret,
  openSuccessor,
  sealSuccessor,
  secretHash,
} from "../../src/tokens/family-token";

/**
 * The refresh-token and authorization-code codec:
 * `rt1.<family id>.<b64url(gen:4 | secret:32 | tag:16)>`, authenticated by an
 * HMAC under a server key. Properties run in workerd (fast-check works there).
 */

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";

let tagKey: CryptoKey;
let otherKey: CryptoKey;

const hmacKey = (seed: number) =>
  crypto.subtle.importKey(
    "raw",
    new Uint8Array(32).fill(seed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );

beforeAll(async () => {
  tagKey = await hmacKey(7);
  otherKey = await hmacKey(8);
});

const kindArb = fc.constantFrom<FamilyTokenKind>("refresh_token", "authorization_code");
const tokenArb: fc.Arbitrary<FamilyToken> = fc.record({
  kind: kindArb,
  familyId: fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 }),
  generation: fc.nat({ max: 0xffff_ffff }),
  secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
});

const sameToken = (a: FamilyToken | undefined, b: FamilyToken) => {
  expect(a).toBeDefined();
  expect(a?.kind).toBe(b.kind);
  expect(a?.familyId).toBe(b.familyId);
  expect(a?.generation).toBe(b.generation);
  expect([...(a?.secret ?? [])]).toEqual([...b.secret]);
};

describe("encodeFamilyToken / decodeFamilyToken", () => {
  it("has the documented shape: prefix, 64-hex family id, 70 base64url characters", async () => {
    const text = await encodeFamilyToken(
      { kind: "refresh_token", familyId: "a".repeat(64), generation: 3, secret: newSecret() },
      tagKey,
    );
    expect(text).toMatch(/^rt1\.a{64}\.[A-Za-z0-9_-]{70}$/);
    expect(text.length).toBeLessThanOrEqual(MAX_FAMILY_TOKEN_LENGTH);
    expect(claimedKind(text)).toBe("refresh_token");
  });

  it("round-trips any token (property)", async () => {
    await fc.assert(
      fc.asyncProperty(tokenArb, async (token) => {
        const text = await encodeFamilyToken(token, tagKey);
        sameToken(await decodeFamilyToken(text, token.kind, tagKey), token);
        expect(claimedKind(text)).toBe(token.kind);
      }),
      { numRuns: 200 },
    );
  });

  it("decodes any single-character tamper to undefined (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenArb,
        fc.nat(),
        fc.constantFrom(...BASE64URL, ".", "%", "="),
        async (token, at, replacement) => {
          const text = await encodeFamilyToken(token, tagKey);
          const index = at % text.length;
          fc.pre(text[index] !== replacement);
          const tampered = text.slice(0, index) + replacement + text.slice(index + 1);
          expect(await decodeFamilyToken(tampered, token.kind, tagKey)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it("decodes the last character changed to any other base64url character to undefined (no non-canonical encodings)", async () => {
    // The last of the 70 characters carries 2 bits of the tag and 4 padding bits:
    // a lenient decoder would accept 15 other spellings of the same token.
    const token: FamilyToken = {
      kind: "refresh_token",
      familyId: "0f".repeat(32),
      generation: 1,
      secret: newSecret(),
    };
    const text = await encodeFamilyToken(token, tagKey);
    const last = text.length - 1;
    for (const c of BASE64URL) {
      if (c === text[last]) continue;
      expect(
        await decodeFamilyToken(text.slice(0, last) + c, "refresh_token", tagKey),
      ).toBeUndefined();
    }
  });

  it("decodes any truncation or extension to undefined (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        tokenArb,
        fc.nat(),
        fc.string({ unit: fc.constantFrom(...BASE64URL, "."), minLength: 1, maxLength: 8 }),
        async (token, cut, suffix) => {
          const text = await encodeFamilyToken(token, tagKey);
          const truncated = text.slice(0, cut % text.length);
          expect(await decodeFamilyToken(truncated, token.kind, tagKey)).toBeUndefined();
          expect(await decodeFamilyToken(text + suffix, token.kind, tagKey)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decodes a token of the other kind to undefined, even with the prefix rewritten (property)", async () => {
    await fc.assert(
      fc.asyncProperty(tokenArb, async (token) => {
        const text = await encodeFamilyToken(token, tagKey);
        const other: FamilyTokenKind =
          token.kind === "refresh_token" ? "authorization_code" : "refresh_token";
        expect(await decodeFamilyToken(text, other, tagKey)).toBeUndefined();
        // The kind is inside the MAC: swapping the prefix does not make a code a refresh token.
        const swapped = (other === "refresh_token" ? "rt1" : "ac1") + text.slice(3);
        expect(await decodeFamilyToken(swapped, other, tagKey)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it("decodes a token tagged under another key to undefined (property)", async () => {
    await fc.assert(
      fc.asyncProperty(tokenArb, async (token) => {
        const text = await encodeFamilyToken(token, otherKey);
        expect(await decodeFamilyToken(text, token.kind, tagKey)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it("never throws on arbitrary input, and answers undefined (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .string({ unit: fc.constantFrom(...BASE64URL, "."), maxLength: 140 })
            .map((s) => `rt1.${s}`),
        ),
        async (junk) => {
          expect(await decodeFamilyToken(junk, "refresh_token", tagKey)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses overlong input before parsing it", async () => {
    const text = `rt1.${"a".repeat(64)}.${"A".repeat(MAX_FAMILY_TOKEN_LENGTH)}`;
    expect(await decodeFamilyToken(text, "refresh_token", tagKey)).toBeUndefined();
  });
});

describe("what a family stores instead of a token", () => {
  it("hashes a secret to 64 hex characters (SHA-256), different secrets to different hashes", async () => {
    const a = newSecret();
    const b = newSecret();
    expect(a.byteLength).toBe(32);
    expect(await secretHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(await secretHash(a)).toBe(await secretHash(a.slice()));
    expect(await secretHash(a)).not.toBe(await secretHash(b));
  });

  it("seals a successor's secret so that only the holder of the predecessor's secret can open it (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (successor, secret, wrong) => {
          fc.pre(wrong.some((byte, i) => byte !== secret[i]));
          const sealed = await sealSuccessor(successor, secret);
          expect(fromBase64Url(sealed)?.byteLength, "IV, secret and GCM tag").toBe(60);
          expect(sealed).not.toContain(toBase64Url(successor).slice(0, 20));
          expect(await openSuccessor(sealed, secret)).toEqual(successor);
          expect(await openSuccessor(sealed, wrong)).toBeUndefined();
        },
      ),
      { numRuns: 100 },
    );
  });

  it("opens nothing from a corrupted seal", async () => {
    const secret = newSecret();
    const sealed = await sealSuccessor(newSecret(), secret);
    const flipped = (sealed[20] === "A" ? "B" : "A") as string;
    expect(await openSuccessor(sealed.slice(0, 20) + flipped + sealed.slice(21), secret)).toBe(
      undefined,
    );
    expect(await openSuccessor(sealed.slice(0, 10), secret)).toBeUndefined();
    expect(await openSuccessor("not base64url!", secret)).toBeUndefined();
  });
});
