import { type ClientRecord, DEVICE_CODE_GRANT } from "../clients/model";
import { refreshPolicy } from "../clients/policy";
import type { ProviderConfig } from "../config";
import { answerDeviceRequest, pollDeviceCode } from "../families/device-gateway";
import { audit } from "../log";
import type { SessionRef } from "../users/login-sessions";
import { windowFor } from "./audience";
import { issuesRefreshToken } from "./authorization-code";
import { defineGrant, presentedProofs, provenBy } from "./grant";
import { readyToSign, tokenResponse } from "./response";

/**
 * The device authorization grant (RFC 8628), the two halves that are not
 * pages: the user's approval, given on the verification page, and the
 * device's polls at the token endpoint. The device authorization endpoint
 * (routes/device-authorization.ts) starts it; the family decides everything
 * (families/device.ts).
 */

export interface DeviceApproval {
  client: ClientRecord;
  /** The family the user code named. */
  familyId: string;
  sub: string;
  /** The approving browser's login session: the approval counts only while it stands. */
  session: SessionRef;
  authTime: number;
  scope: readonly string[];
}

/**
 * RFC 8628 §3.3: the user approved. Three steps, each refusing what could go
 * wrong after the one before: the family is claimed for this user (no one
 * else can approve it now, nor has it in their grant index), entered in the
 * user's index (refused once the session has ended), and only then approved.
 * A revocation of the user's grants between the last two finds it in the
 * index and leaves a tombstone (families/revocation.ts), which refuses the
 * approval. In another order a revocation could miss a grant its device then
 * redeems. False when nothing was approved (another user's claim, the
 * session ended, the code expired or answered).
 */
export async function approveDeviceRequest(
  env: Env,
  config: ProviderConfig,
  approval: DeviceApproval,
): Promise<boolean> {
  const { client, familyId, sub, scope } = approval;
  const clientId = client.client_id;
  if (!(await answerDeviceRequest(env, familyId, { clientId, answer: "claim", sub }))) return false;
  const user = env.USER.getByName(sub);
  // Not entered: the claimed family expires unused, and an entry without a grant is dropped when it is gone.
  // A device's grant does not end with the approving browser's session: it is the device's.
  if (!(await user.registerFamily(approval.session, familyId, clientId, false))) return false;
  return answerDeviceRequest(env, familyId, {
    clientId,
    answer: "approve",
    grant: { clientId, sub, scope, authTime: approval.authTime },
    refreshAllowed: issuesRefreshToken(client, config, scope),
  });
}

/** RFC 8628 §3.3: the user denied; the device's next poll is access_denied. */
export const denyDeviceRequest = (env: Env, familyId: string, clientId: string) =>
  answerDeviceRequest(env, familyId, { clientId, answer: "deny" });

/**
 * RFC 8628 §3.4: "grant_type REQUIRED. Value MUST be set to
 * "urn:ietf:params:oauth:grant-type:device_code". device_code REQUIRED. The
 * device verification code, "device_code" from the device authorization
 * response." The client authenticates as at any token request (the endpoint's
 * steps did it); the family answers the poll (§3.5), and the one poll that
 * redeems gets the tokens, a refresh token as the client's policy says.
 */
export const deviceCodeGrant = defineGrant({
  grantType: DEVICE_CODE_GRANT,
  parameters: { required: ["device_code"], optional: [] },
  async handle(request) {
    const { env, config, client, params } = request;
    const proven = provenBy(request);
    await readyToSign(env, config);
    const window = windowFor(client, config, undefined);
    const polled = await pollDeviceCode(env, {
      deviceCode: params.device_code,
      clientId: client.client_id,
      ...presentedProofs(proven),
      // As at a code's redemption: a public client's refresh tokens are bound to its proof.
      bindRefreshToProof: client.credential.method === "none",
      policy: refreshPolicy(client, config),
      accessTokenExpiresAt: window.exp * 1000,
    });
    const { grant } = polled;
    // The grant's scope, within what the client may still have today.
    const scope = grant.scope.filter((s) => client.scopes.includes(s));
    const { response, jti } = await tokenResponse(env, config, {
      client,
      sub: grant.sub,
      scope,
      audience: config.defaultAudience,
      window,
      familyId: polled.familyId,
      authTime: grant.authTime,
      ...(polled.refreshToken ? { refreshToken: polled.refreshToken } : {}),
      ...proven,
    });
    audit("token.issued", {
      grant: "device_code",
      familyId: polled.familyId,
      clientId: client.client_id,
      sub: grant.sub,
      jti,
      refreshToken: response.refresh_token !== undefined,
      aud: config.defaultAudience,
      ...proven,
    });
    return { body: response };
  },
});
