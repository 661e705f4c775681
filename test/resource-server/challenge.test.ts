import { describe, expect, it } from "vitest";
import {
  refusalResponse,
  refuse,
  safeDescription,
  wwwAuthenticate,
} from "../../src/resource-server/challenge";
import { DESCRIPTION_CHARSET } from "../support/http";

const settings = {
  realm: "api",
  resourceMetadata: "https://api.example.test/.well-known/oauth-protected-resource",
};

describe("RFC 6750 §3 challenges", () => {
  it("a request without credentials gets a challenge with no error code (§3.1)", () => {
    expect(wwwAuthenticate(undefined, settings)).toBe(
      'Bearer realm="api", resource_metadata="https://api.example.test/.well-known/oauth-protected-resource"',
    );
  });

  it("an invalid token: error, error_description and resource_metadata (RFC 9728 §5.1)", () => {
    const value = wwwAuthenticate(refuse(401, "invalid_token", "Expired."), settings);
    expect(value).toBe(
      'Bearer realm="api", error="invalid_token", error_description="Expired.", resource_metadata="https://api.example.test/.well-known/oauth-protected-resource"',
    );
  });

  it("insufficient_scope names the scopes needed, dropping any outside the scope-token charset", () => {
    const refusal = { ...refuse(403, "insufficient_scope", "More."), scope: ["api:write", 'x"y'] };
    expect(wwwAuthenticate(refusal, {})).toBe(
      'Bearer error="insufficient_scope", error_description="More.", scope="api:write"',
    );
  });

  it("with DPoP on, the scheme in error carries the error and the other follows bare (RFC 9449 §7.1)", () => {
    const value = wwwAuthenticate(refuse(401, "invalid_token", "No proof.", "DPoP"), {
      dpopAlgs: ["ES256", "EdDSA"],
    });
    expect(value).toBe(
      'DPoP algs="ES256 EdDSA", error="invalid_token", error_description="No proof.", Bearer',
    );
  });

  it("keeps descriptions in RFC 6749 §5.2's charset, whatever the text", () => {
    for (const text of ['say "hi"', "back\\slash", "§ é \u0000 \n"]) {
      expect(safeDescription(text)).toMatch(DESCRIPTION_CHARSET);
    }
    const value = wwwAuthenticate(refuse(401, "invalid_token", 'a "quoted" \\ word'), {});
    expect(value).toBe('Bearer error="invalid_token", error_description="a  quoted    word"');
  });

  it("turns refusals into responses: 401 bare with no body, 403 with the error as JSON, never cached", async () => {
    const bare = refusalResponse(undefined, {});
    expect(bare.status).toBe(401);
    expect(await bare.text()).toBe("");
    expect(bare.headers.get("Cache-Control")).toBe("no-store");
    const forbidden = refusalResponse(refuse(403, "insufficient_scope", "More."), {});
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toStrictEqual({
      error: "insufficient_scope",
      error_description: "More.",
    });
  });
});
