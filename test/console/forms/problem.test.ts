import { describe, expect, it } from "vitest";
import {
  controlId,
  formProblem,
  generalProblem,
  problemOf,
} from "../../../src/console/forms/problem";
import { OAuthError } from "../../../src/errors";
import { fieldError } from "../../../src/lib/json-fields";

/** Where a refusal is shown: under the control it names, or above the form. */

describe("a form's problem", () => {
  it("names the control a field error names, array items by their array", () => {
    expect(
      formProblem(fieldError("refresh_token.grace_seconds", "must be a whole number")),
    ).toEqual({
      field: "refresh_token.grace_seconds",
      message: "refresh_token.grace_seconds: must be a whole number.",
      status: 400,
    });
    expect(formProblem(fieldError("redirect_uris[1]", "must be https"))?.field).toBe(
      "redirect_uris",
    );
    // The services' own "<field>: <problem>" refusals that are not FieldErrors (a 409).
    const taken = new OAuthError("invalid_request", "username: is already taken.", { status: 409 });
    expect(formProblem(taken)).toEqual({
      field: "username",
      message: "username: is already taken.",
      status: 409,
    });
  });

  it("names no control when the refusal names none", () => {
    expect(
      formProblem(
        new OAuthError("invalid_request", "A client using none has no secret to rotate."),
      ),
    ).toEqual({
      message: "A client using none has no secret to rotate.",
      status: 400,
    });
  });

  it("is not a form problem when the record is missing, the service is down, or it is a bug", () => {
    expect(
      formProblem(new OAuthError("not_found", "There is no user with this id.")),
    ).toBeUndefined();
    expect(formProblem(new OAuthError("temporarily_unavailable", "Retry."))).toBeUndefined();
    expect(formProblem(new Error("boom"))).toBeUndefined();
  });

  it("is shown once: under its control, or above the form when the form has no such control", () => {
    const problem = formProblem(fieldError("email", "must be an email address"));
    expect(problemOf(problem, "email")).toBe("email: must be an email address.");
    expect(problemOf(problem, "name")).toBeUndefined();
    expect(generalProblem(problem, ["name", "email"])).toBeUndefined();
    expect(generalProblem(problem, ["password"])).toBe("email: must be an email address.");
  });

  it("gives controls element ids without dots or colons", () => {
    expect(controlId("refresh_token.grace_seconds")).toBe("refresh_token-grace_seconds");
    expect(controlId("scope.api:read")).toBe("scope-api-read");
  });
});
