import { lookUpClient } from "../clients/lookup";
import { allowsGrant, type ClientRecord, DEVICE_CODE_GRANT } from "../clients/model";
import { LIMITS } from "../config";
import { invalidRequest } from "../errors";
import { findDeviceRequest } from "../families/device-gateway";
import { approveDeviceRequest, denyDeviceRequest } from "../grants/device-code";
import type { AppContext } from "../http/context";
import { readForm } from "../http/form";
import { limitedAttempt } from "../http/rate-limits";
import { clearSession, readSession } from "../sessions/login-session";
import { formatUserCode, normalizeUserCode } from "../tokens/user-code";
import { renderPage } from "../ui/render";
import { consentScopes, type FlowState, renderLogin } from "./flow";
import { csrfToken, csrfValid, type DeviceInteraction, sealInteraction } from "./interaction";
import { ConsentPage } from "./pages/consent";
import { DeviceDonePage, DeviceEntryPage } from "./pages/device";
import { ErrorPage } from "./pages/error";

/**
 * The verification page of the device authorization grant (RFC 8628 §3.3):
 * the user types the code their device shows, signs in (the login page of
 * the code flow), and allows or denies on the consent page, which then shows
 * the code again to be checked against the device (§3.3.1, §5.4).
 */

/** One answer for every code that cannot be used, so a guesser learns nothing (§5.1). */
const NOT_A_CODE =
  "That code is not valid, has expired, or was already used. Check the code on your device.";

/**
 * GET /device, the verification_uri; with `?user_code=`, the
 * verification_uri_complete of §3.2, which only fills the code in: the user
 * still submits it (a link alone never reaches a sign-in for a device).
 */
export async function deviceEntry(c: AppContext): Promise<Response> {
  const code = normalizeUserCode(c.req.query("user_code") ?? "");
  return renderPage(
    c,
    <DeviceEntryPage
      csrf={await csrfToken(c)}
      {...(code ? { userCode: formatUserCode(code) } : {})}
    />,
  );
}

/**
 * POST /device: the code typed. RFC 8628 §5.1: "it is recommended that the
 * server rate-limit user code attempts". A code that names no waiting device
 * authorization counts against the address (DEVICE_CODE_LIMITER); an address
 * over the limit is refused before any object is asked. Input that is no
 * code at all (wrong length or letters) asks no object, and is not counted.
 */
export async function deviceEntered(c: AppContext): Promise<Response> {
  const form = await readForm(c.req.raw, LIMITS.maxFormBytes);
  if (!(await csrfValid(c, form.get("csrf"))))
    throw invalidRequest("This form has expired or was altered. Open the page again.");
  const typed = form.get("user_code") ?? "";
  const again = async (error: string, status: number) =>
    renderPage(
      c,
      <DeviceEntryPage csrf={await csrfToken(c)} error={error} userCode={typed.slice(0, 32)} />,
      status,
    );
  const limited = await limitedAttempt(
    c,
    "DEVICE_CODE_LIMITER",
    () => findDeviceRequest(c.env, typed),
    (r) => r.found !== undefined || r.malformed,
  );
  if (limited.refused || limited.overLimit)
    return again("Too many codes tried from your network. Wait a minute and try again.", 429);
  const { found } = limited.result;
  const client = found && (await lookUpClient(c.env, c.get("config"), found.clientId));
  if (!found || !client || !allowsGrant(client, DEVICE_CODE_GRANT)) return again(NOT_A_CODE, 400);
  return continueDevice(c, client, {
    kind: "device",
    familyId: found.familyId,
    clientId: client.client_id,
    scope: [...found.scope],
    userCode: normalizeUserCode(typed) as string,
  });
}

/**
 * After the code: a sign-in unless a session stands, then the consent page,
 * always. §5.4 (remote phishing): a code can be sent to a victim to approve,
 * so no device authorization is approved without the user seeing the client,
 * what it asks for and the code, even for a first-party client or a request
 * they allowed before.
 */
export async function continueDevice(
  c: AppContext,
  client: ClientRecord,
  interaction: DeviceInteraction,
  flow: FlowState = {},
): Promise<Response> {
  const session = flow.freshSession ?? (await readSession(c));
  if (!session) return renderLogin(c, client, interaction);
  const account = await c.env.USER.getByName(session.sub).beginAuthorization(
    { sid: session.sid, version: session.version },
    client.client_id,
  );
  if (!account.ok) {
    clearSession(c);
    return renderLogin(c, client, interaction);
  }
  const config = c.get("config");
  if (!flow.consented) {
    return renderPage(
      c,
      <ConsentPage
        clientName={client.client_name}
        username={account.username}
        scopes={consentScopes(client, config, interaction.scope)}
        apis={[]}
        // RFC 8628 §5.4 (remote phishing): a self-registered client's name is only its own claim.
        {...(client.registration ? { selfRegistered: {} } : {})}
        device={{ userCode: formatUserCode(interaction.userCode) }}
        interaction={await sealInteraction(c.env, interaction)}
        csrf={await csrfToken(c)}
      />,
    );
  }
  const approved = await approveDeviceRequest(c.env, config, {
    client,
    familyId: interaction.familyId,
    sub: session.sub,
    session: { sid: session.sid, version: session.version },
    authTime: session.authTime,
    scope: interaction.scope,
  });
  if (!approved) {
    return renderPage(
      c,
      <ErrorPage
        title="This code can no longer be used"
        description="It has expired or was already answered. Start again on your device."
      />,
      400,
    );
  }
  return renderPage(c, <DeviceDonePage approved clientName={client.client_name} />);
}

/** The user denied on the consent page: the device's next poll is access_denied (§3.5). */
export async function deviceDenied(
  c: AppContext,
  client: ClientRecord,
  interaction: DeviceInteraction,
): Promise<Response> {
  await denyDeviceRequest(c.env, interaction.familyId, client.client_id);
  return renderPage(c, <DeviceDonePage approved={false} clientName={client.client_name} />);
}
