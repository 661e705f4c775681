import { LIMITS } from "../config";
import { checkDpop } from "../dpop/check";
import { DPOP_ALGS } from "../dpop/proof";
import { REPLAYED_PROOF, spendProof } from "../dpop/replay";
import { OAuthError } from "../errors";
import { presentedCertificate } from "../mtls/certificate";
import { type AccessTokenClaims, accessTokenStatus } from "../tokens/access-token";
import type { AppContext } from "./context";
import { mediaType, readForm } from "./form";

/**
 * A request to one of our resources (userinfo) with an access token: the
 * token as RFC 6750 §2 sends it (Bearer) or as RFC 9449 §7 does (DPoP, with
 * a proof), checked, with every refusal carrying the challenge of its scheme;
 * a certificate-bound token (RFC 8705 §3) only over mutual TLS with its
 * certificate.
 */

const REALM = 'realm="edge-token-service"';
const ALGS = `algs="${DPOP_ALGS.join(" ")}"`;

type Scheme = "Bearer" | "DPoP";
type ResourceErrorCode =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "invalid_dpop_proof"
  | "use_dpop_nonce";

const STATUS: Record<ResourceErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  // RFC 9449 §7.1 and §9: a resource answers proof problems with 401.
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

/**
 * RFC 6750 §3 (Bearer) and RFC 9449 §7.1 (DPoP, with the algorithms it
 * accepts): the challenge says what went wrong, in the header as in the body.
 */
export function resourceError(
  scheme: Scheme,
  code: ResourceErrorCode,
  description: string,
  headers: Record<string, string> = {},
): OAuthError {
  const error = new OAuthError(code, description, { status: STATUS[code] });
  const params = `error="${code}", error_description="${error.description.replace(/"/g, "'")}"`;
  const challenge = scheme === "DPoP" ? `DPoP ${ALGS}, ${params}` : `Bearer ${REALM}, ${params}`;
  return new OAuthError(code, description, {
    status: STATUS[code],
    headers: { "WWW-Authenticate": challenge, ...headers },
  });
}

/** RFC 6750 §3.1: no credentials at all gets bare challenges, one per scheme we accept. */
const noCredentials = () =>
  new OAuthError("invalid_token", "An access token is required.", {
    status: 401,
    headers: { "WWW-Authenticate": `Bearer ${REALM}, DPoP ${ALGS}` },
  });

interface Presented {
  scheme: Scheme;
  token: string;
}

/** RFC 6750 §2.1 and §2.2, RFC 9449 §7.1; never the query string (RFC 6750 §2.3 is unsafe). */
async function presentedToken(c: AppContext): Promise<Presented | undefined> {
  const header = c.req.header("authorization");
  const fromBody =
    c.req.method === "POST" && mediaType(c.req.raw) === "application/x-www-form-urlencoded"
      ? (await readForm(c.req.raw, LIMITS.maxFormBytes)).get("access_token")
      : undefined;
  if (header !== undefined && fromBody !== undefined) {
    throw resourceError(
      "Bearer",
      "invalid_request",
      "The access token was sent in more than one way.",
    );
  }
  if (fromBody !== undefined) return { scheme: "Bearer", token: fromBody };
  if (header === undefined) return undefined;
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1] || !match[2]) {
    throw resourceError(
      "Bearer",
      "invalid_request",
      "The Authorization header is not a Bearer or DPoP access token.",
    );
  }
  return { scheme: match[1].toLowerCase() === "dpop" ? "DPoP" : "Bearer", token: match[2] };
}

/**
 * The access token of a resource request, verified (signature, expiry,
 * revocation) and, when it is bound, proven: by the same TLS client
 * certificate, by a proof of the same DPoP key, or both.
 */
export async function authorizedAccess(c: AppContext, url: string): Promise<AccessTokenClaims> {
  const presented = await presentedToken(c);
  if (!presented) throw noCredentials();
  const { scheme, token } = presented;
  const status = await accessTokenStatus(c.env, c.get("config"), token);
  if (status.state === "invalid")
    throw resourceError(scheme, "invalid_token", "The access token is invalid or has expired.");
  if (status.state !== "active")
    throw resourceError(scheme, "invalid_token", "The access token has been revoked.");
  const { claims } = status;
  const jkt = claims.cnf?.jkt;
  const x5t = claims.cnf?.["x5t#S256"];
  // First, since it costs nothing: a refusal here spends no DPoP proof.
  if (x5t !== undefined) certificateMatches(c, x5t, jkt === undefined ? "Bearer" : "DPoP");
  if (jkt === undefined) {
    if (scheme === "DPoP") {
      throw resourceError("DPoP", "invalid_token", "The access token is not bound to a DPoP key.");
    }
    return claims;
  }
  // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token,
  // or whoever copied it could use it without the key.
  if (scheme !== "DPoP") {
    throw resourceError(
      "DPoP",
      "invalid_token",
      "The access token is bound to a DPoP key: send it with the DPoP scheme and a proof.",
    );
  }
  const check = await checkDpop(
    c.env,
    c.req.raw,
    { method: c.req.method, url, accessToken: token },
    { requireNonce: false },
  );
  switch (check.kind) {
    case "absent":
      throw resourceError(
        "DPoP",
        "invalid_dpop_proof",
        "A DPoP proof is required with this token.",
      );
    case "invalid":
      throw resourceError("DPoP", "invalid_dpop_proof", check.description);
    case "nonce":
      throw resourceError("DPoP", "use_dpop_nonce", check.description, {
        "DPoP-Nonce": check.nonce,
      });
    case "valid":
      // §4.3 item 12: "confirm that the public key to which the access token
      // is bound matches the public key from the DPoP proof".
      if (check.proof.jkt !== jkt) {
        throw resourceError(
          "DPoP",
          "invalid_dpop_proof",
          "The DPoP proof is signed by another key than the one the token is bound to.",
        );
      }
      if (!(await spendProof(c.env, check.proof))) {
        throw resourceError("DPoP", "invalid_dpop_proof", REPLAYED_PROOF);
      }
      return claims;
  }
}

/**
 * RFC 8705 §3: "The protected resource MUST obtain, from its TLS
 * implementation layer, the client certificate used for mutual TLS and MUST
 * verify that the certificate matches the certificate associated with the
 * access token. If they do not match, the resource access attempt MUST be
 * rejected with an error, per [RFC6750], using an HTTP 401 status code and
 * the invalid_token error code." Our TLS layer is Cloudflare's edge.
 */
function certificateMatches(c: AppContext, x5t: string, scheme: Scheme): void {
  const certificate = presentedCertificate(c.req.raw);
  if (certificate?.x5t === x5t) return;
  throw resourceError(
    scheme,
    "invalid_token",
    certificate
      ? "The access token is bound to another TLS client certificate than this request's."
      : "The access token is bound to a TLS client certificate: send it over mutual TLS with that certificate.",
  );
}
