import type { RefreshSettings } from "../../clients/model";
import type { RefreshDefaults } from "../../config";
import type { FormFields } from "../forms/fields";
import { type FormProblem, problemOf } from "../forms/problem";
import { Select, TextField } from "./controls";
import { duration, yesNo } from "./format";

/**
 * The refresh-token policy, laid out as the vendors' consoles lay it out
 * (ForgeRock's "Issue Refresh Tokens" and "…on Refreshing Access Tokens",
 * Curity's "Reuse Refresh Tokens" and time to live, a grace period): each
 * setting with one line on what it does and the provider default it
 * inherits when left at "Provider default".
 */

const onOff = (defaultValue: boolean) => [
  {
    value: "",
    label: `Provider default (${yesNo(defaultValue)})`,
  },
  { value: "true", label: "Yes" },
  { value: "false", label: "No" },
];

export function RefreshPolicyFields(props: {
  values: FormFields;
  defaults: RefreshDefaults;
  problem: FormProblem | undefined;
}) {
  const { values, defaults, problem } = props;
  const value = (name: string) => values.get(name) ?? "";
  const field = (name: string) => ({ name, value: value(name), error: problemOf(problem, name) });
  return (
    <fieldset id="refresh-policy">
      <legend>Refresh tokens</legend>
      {problemOf(problem, "refresh_token") ? (
        <p class="field-error">{problemOf(problem, "refresh_token")}</p>
      ) : null}
      <Select
        {...field("refresh_token.issue")}
        label="Issue refresh tokens"
        options={onOff(defaults.issue)}
        hint={`Whether sign-ins to this application get a refresh token at all (it also needs the Refresh token grant). Provider default: ${yesNo(defaults.issue)}.`}
      />
      <Select
        {...field("refresh_token.rotation")}
        label="Rotation"
        options={[
          { value: "", label: `Provider default (${defaults.rotation})` },
          { value: "rotate", label: "Rotate: a new refresh token on every refresh" },
          { value: "reuse", label: "Reuse: the same refresh token keeps working" },
        ]}
        hint={`Rotate: each refresh returns a new token and the old one stops working (a replay of it revokes the grant). Public clients always rotate. Provider default: ${defaults.rotation}.`}
      />
      <Select
        {...field("refresh_token.issue_on_refresh")}
        label="Issue a refresh token on refresh"
        options={onOff(true)}
        hint="No: a refresh response carries no refresh token and the application keeps using the one it has (needs Reuse). Default: yes."
      />
      <TextField
        {...field("refresh_token.grace_seconds")}
        type="number"
        min={0}
        max={60}
        label="Grace window (seconds)"
        hint={`How long the previous token, presented again while its successor is unused, gets that same successor (a lost response, retried). 0 to 60. Provider default: ${defaults.graceSeconds} s (public clients: none unless set here, and only for DPoP- or certificate-bound grants).`}
      />
      <TextField
        {...field("refresh_token.absolute_lifetime")}
        type="number"
        min={0}
        label="Absolute lifetime (seconds)"
        hint={`How long a grant's refresh tokens work after the sign-in, however often they are used; 0 means no refresh tokens. Provider default: ${duration(defaults.absoluteLifetime)}.`}
      />
      <TextField
        {...field("refresh_token.idle_lifetime")}
        type="number"
        min={0}
        label="Idle lifetime (seconds)"
        hint={`How long a grant may go unused before its refresh token stops working. Provider default: ${duration(defaults.idleLifetime)}.`}
      />
      <Select
        {...field("refresh_token.require_offline_access")}
        label="Require offline_access"
        options={onOff(defaults.requireOfflineAccess)}
        hint={`Yes: a refresh token only when the sign-in asked for the offline_access scope. Provider default: ${yesNo(defaults.requireOfflineAccess)}.`}
      />
    </fieldset>
  );
}

/** The policy as a list, for viewers and the application's summary: own value or "default (…)". */
export function RefreshPolicySummary(props: {
  settings: RefreshSettings;
  defaults: RefreshDefaults;
}) {
  const { settings: own, defaults } = props;
  const show = <T,>(value: T | undefined, fallback: T, format: (v: T) => string) =>
    value === undefined ? `provider default (${format(fallback)})` : format(value);
  const rows: [string, string][] = [
    ["Issue refresh tokens", show(own.issue, defaults.issue, yesNo)],
    ["Rotation", show(own.rotation, defaults.rotation, String)],
    ["Issue a refresh token on refresh", show(own.issue_on_refresh, true, yesNo)],
    ["Grace window", show(own.grace_seconds, defaults.graceSeconds, (s) => `${s} s`)],
    ["Absolute lifetime", show(own.absolute_lifetime, defaults.absoluteLifetime, duration)],
    ["Idle lifetime", show(own.idle_lifetime, defaults.idleLifetime, duration)],
    [
      "Require offline_access",
      show(own.require_offline_access, defaults.requireOfflineAccess, yesNo),
    ],
  ];
  return (
    <dl class="facts" id="refresh-policy-summary">
      {rows.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}
