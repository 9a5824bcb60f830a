import type { Channel } from "./channel.ts";
import { textProblem } from "./text.ts";

/**
 * Address syntax and normal forms, used for validation and for duplicate detection.
 * Written by hand: we need only syntax and one canonical form per channel (email with a
 * lower-cased domain, phone in E.164, push endpoint URL). A full phone-number library would
 * judge numbers by national plans and refuse the test ranges (+1555…) senders and our
 * simulator rely on; reachability is the SMSC's call, and its answer is qualified.
 */
export type AddressCheck =
  | { ok: true; address: string }
  | { ok: false; error: string };

const LOCAL_ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
// RFC 5321 quoted string: printable ASCII (and, per RFC 6531, non-ASCII) but `"` and `\`, which
// are escaped; never a control character, so no CR/LF can reach an SMTP command or a header.
const QUOTED_LOCAL =
  /^"(?:[\x20\x21\x23-\x5B\x5D-\x7E\u0080-\uD7FF\uE000-\u{10FFFF}]|\\[\x20-\x7E])*"$/u;
const LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

/** Email: local part kept as written (it may be case-sensitive), domain lower-cased. */
export function normalizeEmail(raw: string): AddressCheck {
  const value = raw.trim();
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) {
    return { ok: false, error: "an email address needs local@domain" };
  }
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase().replace(/\.$/u, "");
  if (local.length > 64) return { ok: false, error: "local part longer than 64 characters" };
  if (!LOCAL_ATOM.test(local) && !QUOTED_LOCAL.test(local)) {
    return { ok: false, error: "invalid local part" };
  }
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    return { ok: false, error: "invalid domain" };
  }
  const address = `${local}@${domain}`;
  if (address.length > 254) return { ok: false, error: "address longer than 254 characters" };
  return { ok: true, address };
}

/**
 * Phone to E.164: `+` and 8–15 digits. Spaces, dots, dashes and brackets go; `00` becomes `+`;
 * a national number (leading 0) takes `defaultCallingCode` when one is configured.
 */
export function normalizePhone(raw: string, defaultCallingCode?: string): AddressCheck {
  let value = raw.trim().replace(/[\s.()\-/]/gu, "");
  if (value.startsWith("00")) value = `+${value.slice(2)}`;
  else if (!value.startsWith("+") && defaultCallingCode && /^0\d/u.test(value)) {
    value = `+${defaultCallingCode.replace(/^\+/u, "")}${value.slice(1)}`;
  }
  if (!value.startsWith("+")) {
    return { ok: false, error: "a phone number needs its country code (+…)" };
  }
  if (!/^\+[1-9]\d{7,14}$/u.test(value)) {
    return { ok: false, error: "not an E.164 number (+ and 8 to 15 digits)" };
  }
  return { ok: true, address: value };
}

/** Push: the subscription's endpoint, an absolute https (or http, for tests) URL. */
export function normalizeEndpoint(raw: string): AddressCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, error: "endpoint is not a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, error: "endpoint must be an http(s) URL" };
  }
  url.hash = "";
  return { ok: true, address: url.href };
}

export interface AddressOptions {
  /** Calling code for national phone numbers (`33` for France); none by default. */
  defaultCallingCode?: string;
}

export function normalizeAddress(
  channel: Channel,
  raw: string,
  options: AddressOptions = {},
): AddressCheck {
  switch (channel) {
    case "email":
      return normalizeEmail(raw);
    case "sms":
      return normalizePhone(raw, options.defaultCallingCode);
    case "push":
      return normalizeEndpoint(raw);
  }
}

export type MailboxCheck =
  | { ok: true; name: string | null; address: string }
  | { ok: false; error: string };

const MAX_DISPLAY_NAME = 200;

/**
 * An RFC 5322 mailbox as senders write one: `news@example.com`, `News <news@example.com>`,
 * `"Doe, Jane" <jane@example.com>`. The display name may be any one-line text (the email channel
 * encodes it on output, RFC 2047), so it is returned unquoted; the address is checked and
 * normalized as `normalizeEmail` does. Groups and lists are not mailboxes and are refused.
 */
export function parseMailbox(raw: string): MailboxCheck {
  const value = raw.trim();
  const problem = textProblem(value, "line");
  if (problem) return { ok: false, error: problem };
  const open = value.lastIndexOf("<");
  if (open === -1) {
    if (value.includes(">")) return { ok: false, error: "a `>` without its `<`" };
    const check = normalizeEmail(value);
    return check.ok ? { ok: true, name: null, address: check.address } : check;
  }
  if (!value.endsWith(">")) return { ok: false, error: "text after the address's closing `>`" };
  const inner = value.slice(open + 1, -1);
  if (inner.includes(">")) return { ok: false, error: "a `>` inside the address" };
  const check = normalizeEmail(inner);
  if (!check.ok) return check;
  let name = value.slice(0, open).trim();
  if (name.includes("<")) return { ok: false, error: "more than one `<` in the mailbox" };
  if (name.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/u.test(name)) {
      return { ok: false, error: "the quoted display name is not closed" };
    }
    name = name.slice(1, -1).replace(/\\(.)/gu, "$1");
  } else if (name.includes('"')) {
    return { ok: false, error: "a display name with a quote must be quoted whole" };
  }
  if (name.length > MAX_DISPLAY_NAME) {
    return { ok: false, error: `display name longer than ${MAX_DISPLAY_NAME} characters` };
  }
  return { ok: true, name: name === "" ? null : name, address: check.address };
}

/** The domain an email address is sent to (flow control key). */
export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}
