import type { Child } from "hono/jsx";
import { boxName, type FormFields } from "../forms/fields";
import { controlId } from "../forms/problem";

/**
 * The console's form controls. Each has a visible label tied to it (`for`),
 * an optional one-line hint, and the refusal that names it, shown under it
 * and announced (`aria-describedby`, `aria-invalid`), so an operator sees
 * what to fix where they typed it.
 */

/** The session's CSRF token, which consoleAuth checks on every POST. */
export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export interface FieldProps {
  /** The form field's name: the admin API's JSON path (e.g. `refresh_token.grace_seconds`). */
  name: string;
  label: string;
  hint?: Child;
  /** The refusal to show under this field, if it was this field's. */
  error?: string | undefined;
}

const describedBy = (id: string, props: FieldProps) =>
  [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean).join(" ") ||
  undefined;

function Messages(props: FieldProps & { id: string }) {
  return (
    <>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      ) : null}
    </>
  );
}

export function TextField(
  props: FieldProps & {
    value?: string | undefined;
    type?: "text" | "password" | "number" | "search";
    autocomplete?: string;
    required?: boolean;
    min?: number;
    max?: number;
  },
) {
  const id = controlId(props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        type={props.type ?? "text"}
        id={id}
        name={props.name}
        value={props.value ?? ""}
        autocomplete={props.autocomplete ?? "off"}
        required={props.required}
        min={props.min}
        max={props.max}
        spellcheck={false}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props)}
      />
      <Messages {...props} id={id} />
    </div>
  );
}

export function TextArea(props: FieldProps & { value?: string | undefined; rows?: number }) {
  const id = controlId(props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 3}
        spellcheck={false}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props)}
      >
        {props.value ?? ""}
      </textarea>
      <Messages {...props} id={id} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function Select(props: FieldProps & { value?: string | undefined; options: Option[] }) {
  const id = controlId(props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props)}
      >
        {props.options.map((option) => (
          <option value={option.value} selected={option.value === (props.value ?? "")}>
            {option.label}
          </option>
        ))}
      </select>
      <Messages {...props} id={id} />
    </div>
  );
}

/** A single checkbox whose label sits beside it. */
export function Checkbox(props: FieldProps & { checked: boolean; value?: string }) {
  const id = controlId(props.name);
  return (
    <div class="field">
      <label class="check" for={id}>
        <input
          type="checkbox"
          id={id}
          name={props.name}
          value={props.value ?? "on"}
          checked={props.checked}
          aria-invalid={props.error ? "true" : undefined}
          aria-describedby={describedBy(id, props)}
        />
        <span>{props.label}</span>
      </label>
      <Messages {...props} id={id} />
    </div>
  );
}

/** Several checkboxes of one name (e.g. grant types), in a fieldset with a legend. */
export function CheckboxGroup(props: FieldProps & { options: Option[]; values: FormFields }) {
  const id = controlId(props.name);
  return (
    <fieldset
      id={id}
      aria-invalid={props.error ? "true" : undefined}
      aria-describedby={describedBy(id, props)}
    >
      <legend>{props.label}</legend>
      {props.options.map((option) => (
        <label class="check" for={controlId(boxName(props.name, option.value))}>
          <input
            type="checkbox"
            id={controlId(boxName(props.name, option.value))}
            name={boxName(props.name, option.value)}
            value="on"
            checked={Boolean(props.values.get(boxName(props.name, option.value)))}
          />
          <span>{option.label}</span>
        </label>
      ))}
      <Messages {...props} id={id} />
    </fieldset>
  );
}

/**
 * A form of one button that POSTs an action (block, rotate, revoke). Its
 * result is a 303 to a page saying what was done, so a reload repeats nothing.
 */
export function ActionButton(props: {
  action: string;
  csrfToken: string;
  label: string;
  /** The button's name when its label alone is ambiguous (one "Revoke" per row). */
  ariaLabel?: string;
  id?: string;
  tone?: "primary" | "secondary" | "danger";
  hidden?: Record<string, string>;
}) {
  return (
    <form method="post" action={props.action}>
      <CsrfField token={props.csrfToken} />
      {Object.entries(props.hidden ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button
        type="submit"
        id={props.id}
        aria-label={props.ariaLabel}
        class={props.tone && props.tone !== "primary" ? props.tone : undefined}
      >
        {props.label}
      </button>
    </form>
  );
}

/** A refusal that names no field of the form: shown above it. */
export function FormAlert(props: { message?: string | undefined }) {
  return props.message ? (
    <p class="alert" role="alert" id="form-error">
      {props.message}
    </p>
  ) : null;
}

/** Seconds since the epoch, as an operator reads a time (UTC, to the second). */
export function Time(props: { at: number | null | undefined }) {
  if (!props.at) return <span>—</span>;
  const iso = new Date(props.at * 1000).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`}</time>;
}
