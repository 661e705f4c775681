import { describe, expect, it } from "vitest";
import {
  passwordBody,
  userCreateBody,
  userProfileBody,
} from "../../../src/console/forms/user-form";

/** The user forms → the admin API's user bodies (createUserAccount, updateUserProfile, setUserPassword). */

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

describe("the user forms", () => {
  it("create: leaves an empty name and email out, and reads the verified box", () => {
    expect(userCreateBody(form({ username: " Ada ", password: " pw with spaces " }))).toEqual({
      username: "Ada",
      password: " pw with spaces ",
      email_verified: false,
    });
    expect(
      userCreateBody(
        form({
          username: "ada",
          password: "x",
          name: "Ada L",
          email: "a@x.test",
          email_verified: "on",
        }),
      ),
    ).toEqual({
      username: "ada",
      password: "x",
      name: "Ada L",
      email: "a@x.test",
      email_verified: true,
    });
  });

  it("profile: an emptied name or email is removed (null), since the form shows every field", () => {
    expect(userProfileBody(form({ name: "", email: " " }))).toEqual({
      name: null,
      email: null,
      email_verified: false,
    });
    expect(userProfileBody(form({ name: "Ada", email: "a@x.test", email_verified: "on" }))).toEqual(
      {
        name: "Ada",
        email: "a@x.test",
        email_verified: true,
      },
    );
  });

  it("password: passed exactly as typed (never trimmed), empty when missing", () => {
    expect(passwordBody(form({ password: "  secret  " }))).toEqual({ password: "  secret  " });
    expect(passwordBody(form({}))).toEqual({ password: "" });
  });
});
