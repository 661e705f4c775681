import {
  concatBytes,
  fromBase64Url,
  randomBytes,
  sha256,
  toBase64Url,
  toHex,
  utf8,
} from "../lib/bytes";

/**
 * Refresh tokens and authorization codes: opaque strings that carry the id of
 * their family's Durable Object, so the Worker routes them with no lookup.
 *
 *   rt1.<family id: 64 hex>.<base64url(generation:4 | secret:32 | tag:16)>
 *   ac1.<family id>.<same>            (an authorization code)
 *   dc1.<family id>.<same>            (an RFC 8628 device code, generation 0)
 *
 * - `secret` is 256 bits from the CSPRNG; the family stores only its SHA-256.
 * - `generation` counts rotations. With the tag it lets the family recognise
 *   any token it ever issued (and so detect reuse) while storing only the
 *   newest two, so storage does not grow with the chain.
 * - `tag` is an HMAC (server key) over everything before it: forged or
 *   corrupted tokens are refused before any Durable Object is touched.
 */

export type FamilyTokenKind = "refresh_token" | "authorization_code" | "device_code";

const PREFIX: Record<FamilyTokenKind, string> = {
  refresh_token: "rt1",
  authorization_code: "ac1",
  device_code: "dc1",
};

const SECRET_BYTES = 32;
const TAG_BYTES = 16;
const PAYLOAD_BYTES = 4 + SECRET_BYTES + TAG_BYTES;
/** Longer input is refused before any parsing or crypto. */
export const MAX_FAMILY_TOKEN_LENGTH = 3 + 1 + 64 + 1 + Math.ceil((PAYLOAD_BYTES * 4) / 3);

export interface FamilyToken {
  kind: FamilyTokenKind;
  familyId: string;
  generation: number;
  secret: Uint8Array;
}

const FAMILY_ID = /^[0-9a-f]{64}$/;

function signedPart(
  kind: FamilyTokenKind,
  familyId: string,
  generation: number,
  secret: Uint8Array,
) {
  const gen = new Uint8Array(4);
  new DataView(gen.buffer).setUint32(0, generation);
  return { gen, message: concatBytes(utf8(`${PREFIX[kind]}.${familyId}.`), gen, secret) };
}

export async function encodeFamilyToken(token: FamilyToken, tagKey: CryptoKey): Promise<string> {
  const { gen, message } = signedPart(token.kind, token.familyId, token.generation, token.secret);
  const tag = new Uint8Array(await crypto.subtle.sign("HMAC", tagKey, message)).slice(0, TAG_BYTES);
  return `${PREFIX[token.kind]}.${token.familyId}.${toBase64Url(concatBytes(gen, token.secret, tag))}`;
}

/** Which kind a string claims to be, from its prefix alone (no verification). */
export function claimedKind(text: string): FamilyTokenKind | undefined {
  const prefix = text.slice(0, 4);
  if (prefix === "rt1.") return "refresh_token";
  if (prefix === "ac1.") return "authorization_code";
  if (prefix === "dc1.") return "device_code";
  return undefined;
}

/** The family a string claims to be a token of, from its form alone (no verification). */
export function claimedFamilyId(text: string, kind: FamilyTokenKind): string | undefined {
  if (text.length > MAX_FAMILY_TOKEN_LENGTH) return undefined;
  const parts = text.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX[kind] || !FAMILY_ID.test(parts[1] as string))
    return undefined;
  return parts[1];
}

/** Parses and authenticates a token; anything else is `undefined`, never an exception. */
export async function decodeFamilyToken(
  text: string,
  kind: FamilyTokenKind,
  tagKey: CryptoKey,
): Promise<FamilyToken | undefined> {
  if (text.length > MAX_FAMILY_TOKEN_LENGTH) return undefined;
  const parts = text.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX[kind]) return undefined;
  const familyId = parts[1] as string;
  if (!FAMILY_ID.test(familyId)) return undefined;
  const payload = fromBase64Url(parts[2] as string);
  if (!payload || payload.byteLength !== PAYLOAD_BYTES) return undefined;
  const generation = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
  const secret = payload.slice(4, 4 + SECRET_BYTES);
  const tag = payload.slice(4 + SECRET_BYTES);
  const { message } = signedPart(kind, familyId, generation, secret);
  const full = new Uint8Array(await crypto.subtle.sign("HMAC", tagKey, message));
  if (!crypto.subtle.timingSafeEqual(full.slice(0, TAG_BYTES), tag)) return undefined;
  return { kind, familyId, generation, secret };
}

export const newSecret = (): Uint8Array => randomBytes(SECRET_BYTES);

/** What the family stores in place of a token: SHA-256 of its secret, hex. */
export async function secretHash(secret: Uint8Array): Promise<string> {
  return toHex(await sha256(secret));
}

/**
 * The key under which a family keeps the successor of a token (for the grace
 * window): derived from that token's secret, so only its holder can read it.
 */
async function successorKey(secret: Uint8Array): Promise<CryptoKey> {
  const raw = await sha256(concatBytes(utf8("successor-key/"), secret));
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/**
 * Seals the successor's secret (the rest of the successor token, its family,
 * generation and tag, is not secret and is rebuilt when it is opened), so the
 * family stores 60 bytes per rotation rather than a whole token.
 */
export async function sealSuccessor(
  successorSecret: Uint8Array,
  predecessorSecret: Uint8Array,
): Promise<string> {
  const iv = randomBytes(12);
  const key = await successorKey(predecessorSecret);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, successorSecret),
  );
  return toBase64Url(concatBytes(iv, sealed));
}

/**
 * The token work of one rotation: the successor of `presented`, as the client
 * will receive it (`text`) and as its family stores it (`record`: its hash and
 * its secret sealed under the presented one, for the grace window).
 */
export async function prepareSuccessor(
  presented: FamilyToken,
  tagKey: CryptoKey,
): Promise<{ text: string; record: { generation: number; hash: string; sealed: string } }> {
  const successor = { ...presented, generation: presented.generation + 1, secret: newSecret() };
  return {
    text: await encodeFamilyToken(successor, tagKey),
    record: {
      generation: successor.generation,
      hash: await secretHash(successor.secret),
      sealed: await sealSuccessor(successor.secret, presented.secret),
    },
  };
}

/** The successor's secret, or undefined if `sealed` was not sealed under this predecessor. */
export async function openSuccessor(
  sealed: string,
  predecessorSecret: Uint8Array,
): Promise<Uint8Array | undefined> {
  const bytes = fromBase64Url(sealed);
  if (!bytes || bytes.byteLength !== 12 + SECRET_BYTES + 16) return undefined;
  try {
    const key = await successorKey(predecessorSecret);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12) },
      key,
      bytes.slice(12),
    );
    return new Uint8Array(plain);
  } catch {
    return undefined;
  }
}
