import { invalidRequest } from "../errors";
import { Params } from "../params";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Reads at most `limit` bytes of a body, refusing early with 413 when it is larger. */
export async function readLimitedText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return "";
  // A declared length frames the body: read it in one go (still checked, for
  // bodies built in-process whose header need not match).
  if (declared !== null) return utf8Text(await request.arrayBuffer(), limit);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return utf8Text(body, limit);
}

function utf8Text(body: ArrayBuffer | Uint8Array, limit: number): string {
  if (body.byteLength > limit) throw tooLarge(limit);
  try {
    return fatalUtf8.decode(body);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8.");
  }
}

function tooLarge(limit: number) {
  return invalidRequest(`The request body is larger than ${limit} bytes.`, { status: 413 });
}

/** The media type of a request, lower-cased, without parameters. */
export function mediaType(request: Request): string | undefined {
  const header = request.headers.get("content-type");
  return header?.split(";")[0]?.trim().toLowerCase() || undefined;
}

/** Reads an x-www-form-urlencoded body (RFC 6749 §3.2 requires this media type). */
export async function readForm(request: Request, limit: number): Promise<Params> {
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    throw invalidRequest("The request body must be application/x-www-form-urlencoded.");
  }
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(
    request.headers.get("content-type") ?? "",
  )?.[1];
  if (charset && charset.toLowerCase() !== "utf-8") {
    throw invalidRequest("The request body must be encoded as UTF-8.");
  }
  return Params.parse(await readLimitedText(request, limit));
}
