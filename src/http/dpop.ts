import { createMiddleware } from "hono/factory";
import { checkDpop, type DpopCheck, nonceForResponse } from "../dpop/check";
import { proofRecording, spendAtKey, type TokenEndpointProof } from "../dpop/replay";
import { OAuthError } from "../errors";
import { spendRefusedProof } from "../families/refresh-gateway";
import { PATHS } from "../paths";
import type { StepEnv } from "./context";
import { endpointUrl } from "./origin";
import type { WithClient, WithGrant, WithParams } from "./steps";

/** The token endpoint's DPoP steps (RFC 9449 §5, §8): the proof, then the client's rule. */

export type WithDpop = { dpop: TokenEndpointProof | undefined };

/**
 * RFC 9449 §5: a proof at the token endpoint, checked before anything else
 * is spent on the request (a use_dpop_nonce retry then costs the client
 * nothing: no code, token or assertion has been used). A request without a
 * DPoP header goes on as a bearer request, unless its client says otherwise
 * (below). Successful answers to a proven request carry the current nonce
 * (§8.2), so a client always has one that works. Where the proof's `jti`
 * is recorded is settled here too (src/dpop/replay.ts): by the family the
 * request refreshes, if its grant names one (`proofFamily`), or per key.
 */
export const tokenEndpointProof = () =>
  createMiddleware<StepEnv<WithParams & WithGrant & WithDpop>>(async (c, next) => {
    const config = c.get("config");
    const check: DpopCheck = await checkDpop(
      c.env,
      c.req.raw,
      { method: "POST", url: endpointUrl(config, c.req.url, PATHS.token) },
      { requireNonce: config.dpopRequireNonce },
    );
    switch (check.kind) {
      case "invalid":
        // §5: "If the DPoP proof is invalid, the authorization server issues
        // an error response per Section 5.2 of [RFC6749] with
        // invalid_dpop_proof as the value of the error parameter."
        throw new OAuthError("invalid_dpop_proof", check.description);
      case "nonce":
        // §8: error use_dpop_nonce, with the nonce to use in DPoP-Nonce.
        throw new OAuthError("use_dpop_nonce", check.description, {
          headers: { "DPoP-Nonce": check.nonce },
        });
      case "absent":
        c.set("dpop", undefined);
        break;
      case "valid": {
        const familyId = c.get("grant").proofFamily?.(c.get("params"));
        const recording = await proofRecording(c.env, check.proof, familyId);
        // RFC 9449 §11.1 ("decline HTTP requests ... for which the jti value
        // has been seen before"): a proof recorded per key is spent now,
        // before any step can refuse the request, so no refusal leaves it
        // usable with a corrected request (which a proof does not cover).
        if (recording.by === "key") await spendAtKey(c.env, check.proof);
        const proof = { ...check.proof, recording };
        c.set("dpop", proof);
        c.header("DPoP-Nonce", await nonceForResponse(c.env));
        await next();
        // A proof its family records is spent in the refresh; a request
        // refused by any step (the family's answer included) spends it too,
        // in one more call on the refusal only.
        if (recording.by === "family" && c.res.status !== 200) {
          await spendRefusedProof(c.env, proof, c.get("params"));
        }
        return;
      }
    }
    await next();
  });

/**
 * RFC 9449 §5.2 dpop_bound_access_tokens: "If the value is true, the
 * authorization server MUST reject token requests from the client that do
 * not contain the DPoP header."
 */
export const clientDpopRule = createMiddleware<StepEnv<WithClient & WithDpop>>(async (c, next) => {
  if (c.get("client").dpop_bound_access_tokens && c.get("dpop") === undefined) {
    throw new OAuthError(
      "invalid_dpop_proof",
      "This client must send a DPoP proof with every token request (dpop_bound_access_tokens).",
    );
  }
  await next();
});
