/**
 * Normalization of error texts (DOMAIN §6): variable content goes so that errors of one kind
 * group under one qualification-table entry. Email addresses become `*`; identifiers, dates,
 * numbers and phone numbers become `#xxx#`. SMTP reply codes (`550`, `550-`) and enhanced status
 * codes (`5.1.1`) are kept: they are the most telling part of the text.
 *
 *   550 5.1.1 <jane.doe@example.com>: user unknown (id 8A3F21, 2026-11-02 10:14:03)
 *   → 550 5.1.1 <*>: user unknown (id #xxx#, #xxx#)
 *
 * Idempotent: normalize(normalize(t)) === normalize(t).
 */
export const VARIABLE = "#xxx#";
export const ADDRESS = "*";

// RFC 5322 dot-atom local part (atext and dots) or a quoted string, then a domain of labels or
// an address literal. Loose on purpose: anything that looks like an address goes.
const EMAIL =
  /(?:"[^"\r\n]*"|[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+)@(?:\[[^\]\s]*\]|[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)*)/gu;

// Date and time stamps, taken whole so that one stamp gives one `#xxx#`. Dotted dates need two
// leading digits so that enhanced status codes (5.7.26) are never mistaken for dates.
const ZONE = String.raw`(?:\s?(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?`;
const TIME = String.raw`\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?` + ZONE;
const DATE = String
  .raw`(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}|\d{2}\.\d{2}\.\d{2,4})`;
const DATE_TIME = new RegExp(String.raw`\b${DATE}(?:[ T]${TIME})?|\b${TIME}`, "gu");

const REPLY_CODE = /^[2-5]\d\d-?$/u;
const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}$/u;
const REPLY_AND_ENHANCED = /^[2-5]\d\d-[245]\.\d{1,3}\.\d{1,3}$/u;
const ENHANCED_AHEAD = /^[ \t]+[245]\.\d{1,3}\.\d{1,3}(?=$|[\s,;:.)])/u;

// A token is a run of characters that are neither white space nor brackets, quotes, separators.
const TOKEN = /[^\s()<>[\]{},;"'|]+/gu;
// Punctuation that may open or close a token without being part of its value.
const EDGE = /^([.:!?=]*)(.*?)([.:!?=]*)$/su;
const HAS_DIGIT = /\p{N}/u;
// Several variable parts in a row (a phone number in groups, an IP and a port) make one.
const RUN = /#xxx#(?:[ \t.:/+-]+#xxx#)+/gu;

export function normalize(text: string): string {
  let masked = text;
  // An address removed can join two halves into a new one (`a@b@c`): repeat until none is left.
  for (let previous = ""; previous !== masked;) {
    previous = masked;
    masked = masked.replace(EMAIL, ADDRESS);
  }
  masked = masked.replace(DATE_TIME, VARIABLE);
  const replaced = masked.replace(TOKEN, (token: string, offset: number) => {
    const [, lead = "", core = "", trail = ""] = EDGE.exec(token) ?? [];
    if (!HAS_DIGIT.test(core) || isStatusCode(core, masked, offset, token.length)) return token;
    return `${lead}${VARIABLE}${trail}`;
  });
  return replaced.replace(RUN, VARIABLE);
}

/** `5.1.1`, `550-5.1.1`, and a reply code that starts a line or precedes an enhanced code. */
function isStatusCode(core: string, text: string, offset: number, length: number): boolean {
  if (ENHANCED_CODE.test(core) || REPLY_AND_ENHANCED.test(core)) return true;
  if (!REPLY_CODE.test(core)) return false;
  return startsLine(text, offset) ||
    ENHANCED_AHEAD.test(text.slice(offset + length, offset + length + 16));
}

function startsLine(text: string, offset: number): boolean {
  let i = offset - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i < 0 || text[i] === "\n" || text[i] === "\r";
}
