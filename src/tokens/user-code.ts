import { randomBytes } from "../lib/bytes";

/**
 * RFC 8628 user codes: what a person reads off a device's screen and types
 * on their phone.
 *
 * §6.1: "One way to improve input speed is to restrict the character set to
 * case-insensitive A-Z characters, with no digits. ... Further removing
 * vowels to avoid randomly creating words results in the base 20 character
 * set "BCDFGHJKLMNPQRSTVWXZ". Dashes or other punctuation may be included for
 * readability. An example user code following this guideline containing 8
 * significant characters and dashes added for end-user readability, with a
 * resulting entropy of 20^8, is "WDJB-MJHT"." No 0/O or 1/I to confuse.
 */

export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;
/** 20^8 ≈ 2^34.6 codes (README, "Devices without a browser": what guessing one costs). */
export const USER_CODE_SPACE = USER_CODE_ALPHABET.length ** USER_CODE_LENGTH;

const SIGNIFICANT = new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`);
/** More than any honest typing of a code with spaces and dashes; longer input is not a code. */
const MAX_INPUT_LENGTH = 32;

/**
 * A new code, uniformly drawn: a random byte is used only below 240 (12 × 20),
 * so that every character is equally likely (no modulo bias).
 */
export function newUserCode(): string {
  let code = "";
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of randomBytes(16)) {
      if (byte >= 240 || code.length === USER_CODE_LENGTH) continue;
      code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    }
  }
  return code;
}

/** As the device shows it: XXXX-XXXX. */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/**
 * What a person typed, as a code: §6.1 "The server should ignore any
 * characters like punctuation that are not in the user-code character set.
 * Provided that the character set doesn't include characters of different
 * case, the comparison should be case insensitive." Spaces, dashes and other
 * punctuation are dropped and letters upper-cased; what is left must be 8
 * characters of the alphabet, else it is no code at all (undefined).
 */
export function normalizeUserCode(input: string): string | undefined {
  if (input.length > MAX_INPUT_LENGTH) return undefined;
  const code = input.toUpperCase().replace(/[\s\p{P}]/gu, "");
  return SIGNIFICANT.test(code) ? code : undefined;
}
