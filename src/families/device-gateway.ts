import type { RefreshPolicy } from "../clients/policy";
import { invalidGrant, OAuthError } from "../errors";
import { toHex, utf8 } from "../lib/bytes";
import { currentRequestId } from "../log";
import { serverKeys } from "../server-keys";
import { claimedKind, encodeFamilyToken, newSecret, secretHash } from "../tokens/family-token";
import { newUserCode, normalizeUserCode } from "../tokens/user-code";
import type { AnswerDeviceInput, DeviceRequestView } from "./device";
import { familyObject, familyPolicy, open, refused } from "./gateway";
import type { Grant, Refusal } from "./model";

/**
 * The Worker's way into the family of an RFC 8628 device authorization, as
 * ./gateway.ts is for codes and refresh tokens.
 *
 * A device authorization's family is named by its user code: its Durable
 * Object id is `idFromName(HMAC(server key, user code))`. The verification
 * page, given a code, reaches the one object that decides everything about
 * it (the user's answer, each poll, the one redemption) with no lookup table
 * to keep consistent and no second object; a typed code never becomes an
 * object's name (the HMAC), and the family id (in the device code and in
 * access tokens) does not reveal the user code. A new code that names a
 * family already there (live, or a tombstone) is refused by the family, and
 * another is drawn.
 */

/** The family a (normalized) user code names. */
async function userCodeFamily(env: Env, userCode: string) {
  const key = (await serverKeys(env)).userCodeIndex;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`user-code:${userCode}`)));
  const id = env.TOKEN_FAMILY.idFromName(toHex(mac));
  return { familyId: id.toString(), family: env.TOKEN_FAMILY.get(id) };
}

/** A fresh code names a live family about once in 20^8 / (live codes): a few draws are plenty. */
const MAX_DRAWS = 5;

export interface DeviceAuthorizationRequest {
  clientId: string;
  scope: readonly string[];
  /** Seconds. */
  lifetime: number;
  /** Seconds. */
  interval: number;
}

export interface StartedDeviceAuthorization {
  deviceCode: string;
  userCode: string;
  familyId: string;
}

/**
 * RFC 8628 §3.2: a new device authorization, its family waiting for the
 * user, and its two codes: the device code (a family token, `dc1`, 256 bits
 * of secret; §5.2 "a very high entropy code SHOULD be used") and the user code.
 */
export async function startDeviceAuthorization(
  env: Env,
  request: DeviceAuthorizationRequest,
): Promise<StartedDeviceAuthorization> {
  const secret = newSecret();
  const hash = await secretHash(secret);
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const userCode = newUserCode();
    const { familyId, family } = await userCodeFamily(env, userCode);
    const created = await family.createDevice({
      device: {
        hash,
        clientId: request.clientId,
        scope: request.scope,
        expiresAt: Date.now() + request.lifetime * 1000,
        interval: request.interval,
      },
    });
    if (!created) continue;
    const deviceCode = await encodeFamilyToken(
      { kind: "device_code", familyId, generation: 0, secret },
      (await serverKeys(env)).tokenTag,
    );
    return { deviceCode, userCode, familyId };
  }
  throw new Error("no free user code after several draws");
}

export interface FoundDeviceRequest extends DeviceRequestView {
  familyId: string;
}

/**
 * The device authorization a typed user code names, while it waits for an
 * answer; undefined for anything else, malformed or unknown, expired,
 * answered, redeemed alike (the page says one thing for all of them).
 * `malformed` tells the caller no object was asked (so it is no guess).
 */
export async function findDeviceRequest(
  env: Env,
  typed: string,
): Promise<{ found?: FoundDeviceRequest; malformed: boolean }> {
  const userCode = normalizeUserCode(typed);
  if (!userCode) return { malformed: true };
  const { familyId, family } = await userCodeFamily(env, userCode);
  const view = await family.deviceRequest();
  return { malformed: false, ...(view ? { found: { familyId, ...view } } : {}) };
}

/** The user's answer on the verification page (RFC 8628 §3.3); false when it can no longer be given. */
export async function answerDeviceRequest(
  env: Env,
  familyId: string,
  answer: AnswerDeviceInput,
): Promise<boolean> {
  const family = familyObject(env, familyId);
  return family ? family.answerDevice(answer) : false;
}

export interface PollRequest {
  deviceCode: string;
  clientId: string;
  proofJkt?: string;
  certX5t?: string;
  bindRefreshToProof: boolean;
  policy: RefreshPolicy;
  accessTokenExpiresAt: number;
}

export interface Polled {
  familyId: string;
  grant: Grant;
  refreshToken?: string;
}

const deviceCodeInvalid = () => invalidGrant("The device code is invalid.");
/** RFC 8628 §3.5 (and RFC 6749 §5.2 for the rest): each refusal of a poll, as the device must read it. */
const pollRefusals: Partial<Record<Refusal, () => OAuthError>> = {
  authorization_pending: () =>
    new OAuthError(
      "authorization_pending",
      "The user has not answered yet: poll again after the interval.",
    ),
  slow_down: () =>
    new OAuthError(
      "slow_down",
      "Polled before the interval had passed: poll again, each time 5 seconds later than before.",
    ),
  // RFC 8628 §3.5 lists it among token endpoint errors, which RFC 6749 §5.2 answers with 400.
  access_denied: () =>
    new OAuthError("access_denied", "The user denied the authorization request.", {
      status: 400,
    }),
  expired: () =>
    new OAuthError(
      "expired_token",
      "The device code has expired: start a new device authorization request.",
    ),
  wrong_client: () => invalidGrant("The device code was issued to another client."),
  reuse_detected: () =>
    invalidGrant("The device code was already used; the tokens issued with it have been revoked."),
  revoked: () => invalidGrant("The device authorization was revoked or already used."),
};

/**
 * RFC 8628 §3.4, §3.5: one poll with the device code; the token work (the
 * first refresh token) prepared before the call, so the family does no
 * crypto, and used only if this poll is the one that redeems.
 */
export async function pollDeviceCode(env: Env, request: PollRequest): Promise<Polled> {
  const opened = await open(env, request.deviceCode, "device_code");
  if (!opened) {
    throw claimedKind(request.deviceCode) === undefined
      ? deviceCodeInvalid()
      : invalidGrant("Only a device code can be used with this grant type.");
  }
  const { token, family, tagKey } = opened;
  const firstRefresh = request.policy.issue ? newSecret() : undefined;
  const result = await family.pollDevice(
    {
      codeHash: await secretHash(token.secret),
      clientId: request.clientId,
      ...(firstRefresh ? { refresh: { generation: 0, hash: await secretHash(firstRefresh) } } : {}),
      ...(request.proofJkt !== undefined ? { proofJkt: request.proofJkt } : {}),
      ...(request.certX5t !== undefined ? { certX5t: request.certX5t } : {}),
      bindRefreshToProof: request.bindRefreshToProof,
      policy: familyPolicy(request.policy),
      accessTokenExpiresAt: request.accessTokenExpiresAt,
    },
    currentRequestId(),
  );
  if (!result.ok)
    throw refused(env, token.familyId, result.reason, pollRefusals, deviceCodeInvalid);
  const refreshToken =
    result.refreshIssued && firstRefresh
      ? await encodeFamilyToken(
          { kind: "refresh_token", familyId: token.familyId, generation: 0, secret: firstRefresh },
          tagKey,
        )
      : undefined;
  return {
    familyId: token.familyId,
    grant: result.grant,
    ...(refreshToken ? { refreshToken } : {}),
  };
}
