import type { EmailOutcome, PushOutcome, SmsOutcome } from "./outcomes.ts";

/**
 * Magic recipients: addresses that always give one outcome, whatever the scenario's mix.
 *
 * Email: the local part (before any `+tag`) names the outcome — `success@`, `unknown@`,
 * `bounce@`, `softbounce@`, `mailboxfull@`, `full-after-data@`, `disabled@`, `spam@`, `blocked@`,
 * `trylater@`, `greylist@`, `drop@`, `ooto@`, `complaint@` — at any domain; and any address at a
 * domain that starts with `unknown-domain` or ends with `.invalid` is a bad domain.
 */
export const emailMagic: Record<string, EmailOutcome> = {
  success: "accept",
  unknown: "userUnknown",
  bounce: "bounceLater",
  softbounce: "softBounceLater",
  mailboxfull: "mailboxFull",
  "full-after-data": "mailboxFullAfterData",
  disabled: "disabled",
  spam: "spam",
  blocked: "blocked",
  trylater: "tryLater",
  greylist: "greylist",
  drop: "drop",
  ooto: "autoReply",
  complaint: "complaint",
};

export function emailMagicOutcome(address: string): EmailOutcome | null {
  const at = address.lastIndexOf("@");
  if (at < 0) return null;
  const local = address.slice(0, at).toLowerCase().split("+")[0]!;
  const domain = address.slice(at + 1).toLowerCase();
  if (domain.startsWith("unknown-domain") || domain.endsWith(".invalid")) return "badDomain";
  return emailMagic[local] ?? null;
}

/**
 * SMS: numbers `+1555000xxNN` (E.164, 12 digits after `+1555000`… any middle) whose last two
 * digits name the outcome. Other numbers follow the scenario's mix.
 */
export const smsMagic: Record<string, SmsOutcome> = {
  "00": "delivered",
  "01": "invalidDestination",
  "02": "throttled",
  "03": "unknownSubscriber",
  "04": "expired",
  "05": "rejected",
  "06": "deleted",
  "07": "unknown",
  "08": "absentSubscriber",
  "09": "noResponse",
  "10": "queueFull",
  "11": "systemError",
  "12": "enrouteDelivered",
  "13": "submitFailed",
  "14": "acceptedNoReceipt",
};

export function smsMagicOutcome(number: string): SmsOutcome | null {
  const digits = number.replace(/^\+/u, "");
  if (!/^1555\d{7}$/u.test(digits)) return null;
  return smsMagic[digits.slice(-2)] ?? null;
}

/** Push: a subscription is minted with a behaviour (`accept`, `gone`, `notFound`, …) kept with it. */
export type PushBehaviour = PushOutcome | "mix";
