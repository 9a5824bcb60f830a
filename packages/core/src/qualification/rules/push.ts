import { FailureType, Reason } from "../../failure.ts";
import type { Rule } from "../types.ts";

/** Shipped web-push rules (RFC 8030 answers, DOMAIN §10), matched against `PUSH <status> <body>`. */
const { hard, soft, ignored } = FailureType;
const status = (codes: string) => String.raw`^PUSH (?:${codes})\b`;

export const pushRules: readonly Rule[] = [
  {
    id: "push-subscription-gone",
    channel: "push",
    pattern: status("404|410"),
    regex: true,
    type: hard,
    reason: Reason.userUnknown,
    note: "subscription expired or unsubscribed: quarantine the endpoint",
  },
  {
    id: "push-payload-too-large",
    channel: "push",
    pattern: status("413"),
    regex: true,
    type: soft,
    reason: Reason.refused,
    retry: "never",
    note: "the message is too big: its own fault, retrying cannot help",
  },
  {
    id: "push-bad-request",
    channel: "push",
    pattern: status("400"),
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    retry: "never",
    note: "malformed request (encryption, headers): our fault, not the subscription's",
  },
  {
    id: "push-vapid-rejected",
    channel: "push",
    pattern: status("401|403"),
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    pauseDelivery: true,
    note: "VAPID configuration is wrong: pause the delivery and flag it",
  },
  {
    id: "push-rate-limited",
    channel: "push",
    pattern: status("429"),
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    // Back-off, not the schedule: a 429 storm must not use up a message's retries (nor send it
    // back an hour later), and the wait is at least the Retry-After (DOMAIN §10).
    retry: "backoff",
    note: "too many requests: retried with back-off, not before Retry-After",
  },
  {
    id: "push-server-error",
    channel: "push",
    pattern: status(String.raw`5\d\d`),
    regex: true,
    type: ignored,
    reason: Reason.unreachable,
    note: "push service trouble",
  },
];
