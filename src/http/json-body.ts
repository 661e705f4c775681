import { LIMITS } from "../config";
import { invalidRequest } from "../errors";
import { mediaType, readLimitedText } from "./form";

/** Reads a JSON request body (the admin API, registration): the right media type, a size limit, valid JSON. */
export async function readJson(request: Request): Promise<unknown> {
  if (mediaType(request) !== "application/json")
    throw invalidRequest("The request body must be application/json.");
  const text = await readLimitedText(request, LIMITS.maxJsonBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest("The request body is not valid JSON.");
  }
}
