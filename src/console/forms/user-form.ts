import { checked, type FormFields, optionalText, text } from "./fields";

/**
 * The user forms → the bodies of the admin API's user calls
 * (createUserAccount, updateUserProfile, setUserPassword). The password is
 * passed as typed (never trimmed: spaces may be part of it).
 */

export const USER_CREATE_CONTROLS = [
  "username",
  "password",
  "name",
  "email",
  "email_verified",
] as const;
export const USER_PROFILE_CONTROLS = ["name", "email", "email_verified"] as const;

export function userCreateBody(form: FormFields): Record<string, unknown> {
  const name = optionalText(form, "name");
  const email = optionalText(form, "email");
  return {
    username: text(form, "username"),
    password: form.get("password") ?? "",
    ...(name ? { name } : {}),
    ...(email ? { email } : {}),
    email_verified: checked(form, "email_verified"),
  };
}

/** A profile edit sends every field: an emptied name or email is removed (null). */
export function userProfileBody(form: FormFields): Record<string, unknown> {
  return {
    name: optionalText(form, "name") ?? null,
    email: optionalText(form, "email") ?? null,
    email_verified: checked(form, "email_verified"),
  };
}

export function passwordBody(form: FormFields): Record<string, unknown> {
  return { password: form.get("password") ?? "" };
}
