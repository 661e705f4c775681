import { lookUpClient } from "../clients/lookup";
import type { ClientRecord } from "../clients/model";
import type { ProviderConfig } from "../config";
import { currentRequestId, logError } from "../log";
import { type LogoutNotice, logoutDeliveryObject } from "./logout-delivery";

/**
 * Tells the clients of an ended login session (OIDC Back-Channel Logout
 * 1.0 §2.3: "OPs supporting back-channel logout need to keep track of the
 * set of logged-in RPs"; ours are the session's `clients`, those it
 * authorized): each one that registered a backchannel_logout_uri gets a
 * delivery in the session's LogoutDelivery object, whose alarm sends it.
 * Nothing here waits for a client; a client without the URI is told
 * nothing. A failure to schedule is logged and goes no further: the session
 * has ended whatever the clients hear.
 */

export interface EndedSession {
  sub: string;
  sid: string;
  clients: readonly string[];
}

export type LogoutReason = "logout" | "password_changed" | "user_blocked" | "user_deleted";

export async function announceLogout(
  env: Env,
  config: ProviderConfig,
  ended: EndedSession,
  reason: LogoutReason,
): Promise<void> {
  try {
    const clients = await Promise.all(
      ended.clients.map((id) => lookUpClient(env, config, id).catch(() => undefined)),
    );
    const deliveries = clients.flatMap((client) => deliveryTo(client));
    if (deliveries.length === 0) return;
    const notice: LogoutNotice = {
      issuer: config.issuer,
      sub: ended.sub,
      sid: ended.sid,
      reason,
      deliveries,
    };
    await logoutDeliveryObject(env, ended.sub, ended.sid).schedule(notice, currentRequestId());
  } catch (error) {
    logError("logout_not_announced", error, { sub: ended.sub, reason });
  }
}

function deliveryTo(client: Readonly<ClientRecord> | undefined): LogoutNotice["deliveries"] {
  if (!client?.backchannel_logout_uri) return [];
  return [
    {
      clientId: client.client_id,
      uri: client.backchannel_logout_uri,
      alg: client.id_token_signed_response_alg ?? "ES256",
    },
  ];
}
