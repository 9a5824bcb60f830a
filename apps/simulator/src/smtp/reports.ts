/**
 * The reports a remote mail system sends back after it accepted a message: delivery status
 * notifications (RFC 3464), auto-replies (RFC 3834) and complaint feedback reports (RFC 5965).
 * Pure functions from what the report says to the raw message (CRLF lines, ready for SMTP DATA):
 * no clock, no randomness — dates, ids and boundaries come in — so a report is reproducible and
 * these builders can serve any sender test, not just the simulator.
 */
import { Buffer } from "node:buffer";

const CRLF = "\r\n";

/** RFC 5322 date-time in UTC: `Tue, 4 Nov 2025 10:00:00 +0000`. */
export function rfc5322Date(date: Date): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const two = (n: number) => String(n).padStart(2, "0");
  return `${days[date.getUTCDay()]}, ${date.getUTCDate()} ${
    months[date.getUTCMonth()]
  } ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/u;

/** A header value with non-ASCII text as RFC 2047 encoded words (already-encoded text passes). */
export function encodeHeaderValue(value: string): string {
  const clean = value.replace(/[\r\n]+/gu, " ");
  if (!NON_ASCII.test(clean)) return clean;
  const words: string[] = [];
  const chars = [...clean];
  // 45 bytes of UTF-8 or fewer per word keeps each encoded word under 75 characters.
  for (let i = 0; i < chars.length;) {
    let chunk = "";
    while (i < chars.length && Buffer.byteLength(chunk + chars[i]) <= 45) chunk += chars[i++];
    words.push(`=?UTF-8?B?${Buffer.from(chunk, "utf8").toString("base64")}?=`);
  }
  // Encoded words separated by white space decode as one text (RFC 2047 §6.2); headerLine folds.
  return words.join(" ");
}

/**
 * `Name: value`, folded at white space so that lines stay under 78 characters where possible.
 * Never folded right after the colon: `Subject:` CRLF SP `=?UTF-8?…` unfolds to `Subject:  =?…`
 * and decoders (Python's email, mailparser) then show the text with a leading space; the first
 * word stays on the name's line even when it is long.
 */
export function headerLine(name: string, value: string): string {
  const line = `${name}: ${value}`;
  if (line.length <= 78) return line;
  const out: string[] = [];
  const [first, ...words] = value.split(" ");
  let current = `${name}: ${first}`;
  for (const word of words) {
    if (current.length + 1 + word.length > 78) {
      out.push(current);
      current = ` ${word}`;
    } else {
      current = `${current} ${word}`;
    }
  }
  out.push(current);
  return out.join(CRLF);
}

const crlf = (text: string) => text.replace(/\r?\n/gu, CRLF);
const body = (text: string) => crlf(text).replace(/(?:\r\n)*$/u, "") + CRLF;
const transferEncoding = (text: string) => (NON_ASCII.test(text) ? "8bit" : "7bit");
const angle = (id: string) => (id.startsWith("<") ? id : `<${id}>`);

/** One recipient's block of a `message/delivery-status` part. */
export interface DsnRecipient {
  finalRecipient: string;
  originalRecipient?: string;
  /** `failed` for a bounce; `delayed`, `delivered`, `relayed`, `expanded` exist too. */
  action: string;
  /** RFC 3463 status, e.g. `5.1.1`. */
  status: string;
  /** `dns; mx.example.com` is written from `mx.example.com`. */
  remoteMta?: string;
  /** The whole Diagnostic-Code value, type included: `smtp; 550 5.1.1 …`. */
  diagnosticCode?: string;
  lastAttemptDate?: Date;
}

export interface DsnInput {
  from: string;
  to: string;
  subject: string;
  date: Date;
  messageId: string;
  boundary: string;
  /** The human-readable first part. */
  text: string;
  reportingMta: string;
  arrivalDate: Date;
  originalEnvelopeId?: string;
  recipients: readonly DsnRecipient[];
  /** The original message's header block, as received. */
  originalHeaders: string;
}

/**
 * A delivery status notification (RFC 3464): `multipart/report; report-type=delivery-status`
 * with the human-readable part, the `message/delivery-status` part and the original's headers
 * as `text/rfc822-headers` (RFC 6522).
 */
export function buildDsn(input: DsnInput): string {
  const status: string[] = [];
  status.push(headerLine("Reporting-MTA", `dns; ${input.reportingMta}`));
  if (input.originalEnvelopeId) {
    status.push(headerLine("Original-Envelope-Id", input.originalEnvelopeId));
  }
  status.push(headerLine("Arrival-Date", rfc5322Date(input.arrivalDate)));
  for (const r of input.recipients) {
    status.push("");
    if (r.originalRecipient) {
      status.push(headerLine("Original-Recipient", `rfc822; ${r.originalRecipient}`));
    }
    status.push(headerLine("Final-Recipient", `rfc822; ${r.finalRecipient}`));
    status.push(`Action: ${r.action}`);
    status.push(`Status: ${r.status}`);
    if (r.remoteMta) status.push(headerLine("Remote-MTA", `dns; ${r.remoteMta}`));
    if (r.diagnosticCode) status.push(headerLine("Diagnostic-Code", r.diagnosticCode));
    if (r.lastAttemptDate) {
      status.push(headerLine("Last-Attempt-Date", rfc5322Date(r.lastAttemptDate)));
    }
  }
  return multipartReport({
    from: input.from,
    to: input.to,
    subject: input.subject,
    date: input.date,
    messageId: input.messageId,
    boundary: input.boundary,
    reportType: "delivery-status",
    // RFC 3834 §5: a DSN is auto-generated; auto-replied is for responders.
    extraHeaders: [["Auto-Submitted", "auto-generated"]],
    parts: [
      {
        headers: [["Content-Description", "Notification"]],
        type: "text/plain; charset=utf-8",
        content: input.text,
      },
      {
        headers: [["Content-Description", "Delivery report"]],
        type: "message/delivery-status",
        content: status.join("\n"),
      },
      {
        headers: [["Content-Description", "Undelivered Message Headers"]],
        type: "text/rfc822-headers",
        content: input.originalHeaders,
      },
    ],
  });
}

export interface AutoReplyInput {
  /** The recipient who is away. */
  from: string;
  to: string;
  subject: string;
  date: Date;
  messageId: string;
  /** The original's Message-ID, when it had one. */
  inReplyTo?: string;
  text: string;
}

/**
 * An automatic reply (RFC 3834): `Auto-Submitted: auto-replied`, `In-Reply-To` and `References`
 * naming the original, sent to the original's return path with a null envelope sender.
 */
export function buildAutoReply(input: AutoReplyInput): string {
  const lines = [
    headerLine("From", input.from),
    headerLine("To", input.to),
    headerLine("Subject", encodeHeaderValue(input.subject)),
    `Date: ${rfc5322Date(input.date)}`,
    headerLine("Message-ID", angle(input.messageId)),
  ];
  if (input.inReplyTo) {
    lines.push(headerLine("In-Reply-To", angle(input.inReplyTo)));
    lines.push(headerLine("References", angle(input.inReplyTo)));
  }
  lines.push(
    "Auto-Submitted: auto-replied",
    "X-Auto-Response-Suppress: All",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${transferEncoding(input.text)}`,
  );
  return lines.join(CRLF) + CRLF + CRLF + body(input.text);
}

export interface FeedbackReportInput {
  from: string;
  to: string;
  subject: string;
  date: Date;
  messageId: string;
  boundary: string;
  text: string;
  /** `abuse`, `fraud`, `virus`, `not-spam`, `other` (RFC 5965 §7.3). */
  feedbackType: string;
  userAgent: string;
  /** The original's envelope sender and recipient. */
  originalMailFrom: string;
  originalRcptTo: string;
  arrivalDate: Date;
  reportingMta?: string;
  sourceIp?: string;
  /** The whole original message (`message/rfc822`), or only its headers (`text/rfc822-headers`). */
  original: { kind: "message" | "headers"; raw: string };
}

/**
 * A complaint as an Abuse Reporting Format report (RFC 5965): `multipart/report;
 * report-type=feedback-report`, a `message/feedback-report` part and the original message.
 */
export function buildFeedbackReport(input: FeedbackReportInput): string {
  const report = [
    `Feedback-Type: ${input.feedbackType}`,
    headerLine("User-Agent", input.userAgent),
    "Version: 1",
    headerLine("Original-Mail-From", angle(input.originalMailFrom)),
    headerLine("Original-Rcpt-To", angle(input.originalRcptTo)),
    headerLine("Arrival-Date", rfc5322Date(input.arrivalDate)),
  ];
  if (input.reportingMta) report.push(headerLine("Reporting-MTA", `dns; ${input.reportingMta}`));
  if (input.sourceIp) report.push(`Source-IP: ${input.sourceIp}`);
  return multipartReport({
    from: input.from,
    to: input.to,
    subject: input.subject,
    date: input.date,
    messageId: input.messageId,
    boundary: input.boundary,
    reportType: "feedback-report",
    extraHeaders: [],
    parts: [
      { headers: [], type: "text/plain; charset=utf-8", content: input.text },
      { headers: [], type: "message/feedback-report", content: report.join("\n") },
      {
        headers: [["Content-Disposition", "inline"]],
        type: input.original.kind === "message" ? "message/rfc822" : "text/rfc822-headers",
        content: input.original.raw,
      },
    ],
  });
}

interface Part {
  headers: [string, string][];
  type: string;
  content: string;
}

function multipartReport(m: {
  from: string;
  to: string;
  subject: string;
  date: Date;
  messageId: string;
  boundary: string;
  reportType: string;
  extraHeaders: [string, string][];
  parts: Part[];
}): string {
  const head = [
    headerLine("From", m.from),
    headerLine("To", m.to),
    headerLine("Subject", encodeHeaderValue(m.subject)),
    `Date: ${rfc5322Date(m.date)}`,
    headerLine("Message-ID", angle(m.messageId)),
    ...m.extraHeaders.map(([k, v]) => headerLine(k, v)),
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=${m.reportType};${CRLF} boundary="${m.boundary}"`,
  ];
  const out = [head.join(CRLF), "", "This is a MIME-encapsulated message.", ""];
  for (const part of m.parts) {
    out.push(`--${m.boundary}`);
    for (const [k, v] of part.headers) out.push(headerLine(k, v));
    out.push(`Content-Type: ${part.type}`);
    // message/* parts may only be 7bit, 8bit or binary (RFC 2046 §5.2.1): 8bit covers them all.
    out.push(`Content-Transfer-Encoding: ${transferEncoding(part.content)}`);
    out.push("");
    out.push(body(part.content).replace(/\r\n$/u, ""));
  }
  out.push(`--${m.boundary}--`, "");
  return out.join(CRLF);
}
