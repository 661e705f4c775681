import { OAuthError } from "../../errors";

/**
 * A refusal of a console form, placed where the operator will look for it.
 * The admin services refuse a body with an invalid_request whose description
 * starts with the JSON field at fault (`fieldError`: "<field>: <problem>",
 * e.g. "refresh_token.grace_seconds: must be a whole number from 0 to 60.").
 * The console's controls are named by those same JSON paths, so the field is
 * the control to show it under; an array item (`redirect_uris[1]`) belongs
 * to its array's control.
 */
export interface FormProblem {
  /** The control's name, or undefined when the refusal names no field. */
  field?: string;
  /** The refusal as the service worded it. */
  message: string;
  /** The refusal's status (400, or 409 for a name already taken): the page's status. */
  status: number;
}

const NAMED = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\[[0-9]+\])?: ./s;

/**
 * The problem to show on the form, or undefined when the error is not a
 * refusal of what was typed (a missing record, an outage, a bug): those go to
 * the console's error page.
 */
export function formProblem(error: unknown): FormProblem | undefined {
  if (!(error instanceof OAuthError) || error.code !== "invalid_request" || error.status >= 500)
    return undefined;
  const field = NAMED.exec(error.description)?.[1];
  const problem = { message: error.description, status: error.status };
  return field ? { field, ...problem } : problem;
}

/** The refusal of one control, if the problem is that control's. */
export const problemOf = (problem: FormProblem | undefined, field: string): string | undefined =>
  problem?.field === field ? problem.message : undefined;

/** The refusal that names no control of the form (shown above it). */
export const generalProblem = (
  problem: FormProblem | undefined,
  fields: readonly string[],
): string | undefined =>
  problem && (!problem.field || !fields.includes(problem.field)) ? problem.message : undefined;

/** An element id for a control name: `refresh_token.grace_seconds` → `refresh_token-grace_seconds`. */
export const controlId = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, "-");
