/**
 * Which header fields a caller may add to an email. The gateway writes the envelope, the
 * identity, the structure and the tracking headers itself; a caller's `To`, `Bcc`, `Message-ID`,
 * `Content-Type` or `List-Unsubscribe` would redirect, forge or break the message. Names are
 * compared case-insensitively (RFC 5322 §1.2.2).
 */
const OWNED = new Set([
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "subject",
  "date",
  "message-id",
  "in-reply-to",
  "references",
  "return-path",
  "received",
  "mime-version",
  "dkim-signature",
  "domainkey-signature",
  "authentication-results",
  "received-spf",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "feedback-id",
  "disposition-notification-to",
  "return-receipt-to",
  "errors-to",
  "precedence",
  "auto-submitted",
  "x-mailer",
]);
/** Families the gateway (or the MTA chain) owns whole. */
const OWNED_PREFIXES = ["content-", "resent-", "arc-", "x-sendgate-"];

export const MAX_CUSTOM_HEADERS = 50;

/** RFC 5322 §2.2: a field name is printable US-ASCII but the colon; 76 keeps a folded line sane. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/u;

/** Why `name` cannot be a custom header of a delivery, or null when it can. */
export function customHeaderProblem(name: string): string | null {
  if (!FIELD_NAME.test(name)) {
    return "not a header field name (printable ASCII without `:` or spaces, up to 76 characters)";
  }
  const lower = name.toLowerCase();
  if (OWNED.has(lower) || OWNED_PREFIXES.some((p) => lower.startsWith(p))) {
    return `${name} is written by the gateway and cannot be set`;
  }
  return null;
}
