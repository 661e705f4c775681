import type { Hono } from "hono";
import { OAuthError } from "../errors";
import {
  listSigningKeys,
  revokeSigningKeyNow,
  rotateSigningKeysNow,
} from "../tokens/key-administration";
import { CONSOLE, type ConsoleContext, type ConsoleEnv } from "./context";
import { PAGES } from "./paths";
import { doneRedirect } from "./render";
import { canChange, requireChange } from "./roles";
import { KeyList, RevokeKey } from "./views/keys";
import { consolePage } from "./views/page";

/** The signing keys' pages, over src/tokens/key-administration.ts (as GET/POST /admin/keys). */

async function list(c: ConsoleContext): Promise<Response> {
  const keys = await listSigningKeys(c.env, c.get("config"));
  return consolePage(c, {
    title: "Signing keys",
    section: "keys",
    children: <KeyList keys={keys} csrfToken={c.get("csrfToken")} mayChange={canChange(c)} />,
  });
}

async function confirmRevoke(c: ConsoleContext): Promise<Response> {
  requireChange(c);
  const kid = c.req.param("kid") ?? "";
  const keys = await listSigningKeys(c.env, c.get("config"));
  const key = keys.find((k) => k.kid === kid && k.state !== "revoked");
  if (!key) throw new OAuthError("not_found", "There is no live signing key with this kid.");
  return consolePage(c, {
    title: `Revoke key ${kid}`,
    section: "keys",
    children: <RevokeKey keyState={key} csrfToken={c.get("csrfToken")} />,
  });
}

export function keyRoutes(app: Hono<ConsoleEnv>): void {
  app.get(`${CONSOLE}/keys`, list);
  app.post(`${CONSOLE}/keys/rotate`, async (c) => {
    await rotateSigningKeysNow(c.env, c.get("config"));
    return doneRedirect(c, PAGES.keys, "keys-rotated");
  });
  app.get(`${CONSOLE}/keys/:kid/revoke`, confirmRevoke);
  app.post(`${CONSOLE}/keys/:kid/revoke`, async (c) => {
    await revokeSigningKeyNow(c.env, c.get("config"), c.req.param("kid") ?? "");
    return doneRedirect(c, PAGES.keys, "key-revoked");
  });
}
