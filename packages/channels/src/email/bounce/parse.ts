/**
 * The inbound bounce parser: what a message that reached the bounce mailbox says about the
 * messages we sent (DOMAIN.md §4). It reads RFC 3464 delivery-status reports, the plain-text
 * reports of MTAs that do not write them, RFC 5965 abuse reports and RFC 3834 auto-replies, and
 * names the message each is about (X-Sendgate-Id, Message-ID, VERP token). Pure: no database, no
 * network, no file system; it never throws, whatever the input.
 */
import { Buffer } from "node:buffer";
import { type Attachment, type ParsedMail, simpleParser } from "mailparser";
import { looksLikeInlineFeedback, parseFeedbackReport } from "./arf.ts";
import { hasAutoReplyHeaders, hasAutoReplySubject } from "./auto-reply.ts";
import { looksLikeInlineStatus, parseDeliveryStatus } from "./dsn.ts";
import {
  field,
  type Fields,
  findAddresses,
  headerBlock,
  normalizeAddress,
  parseFields,
  transcriptErrors,
} from "./fields.ts";
import { isBounceLike, parsePlainText } from "./plain-text.ts";
import { parseSesNotification } from "./ses-json.ts";

export interface BounceRecipient {
  /** The failed address (Final-Recipient, else Original-Recipient, else from the text). */
  recipient: string;
  originalRecipient: string | null;
  /** "failed" | "delayed" | "delivered" | "relayed" | "expanded". */
  action: string;
  /** Enhanced status ("5.1.1"): the Status field, else found in the diagnostic text. */
  status: string | null;
  /** The remote reply without its "smtp;" type, unfolded; for plain-text reports, the reason. */
  diagnosticCode: string | null;
  remoteMta: string | null;
  /** The SMTP command the remote reply answered, when the report says it. */
  stage: "connect" | "helo" | "mail" | "rcpt" | "data" | null;
}

export interface ParsedBounce {
  kind: "dsn" | "autoReply" | "complaint" | "unknown";
  /** In order of appearance; empty for autoReply and unknown. */
  recipients: BounceRecipient[];
  /** The returned original's X-Sendgate-Id header. */
  sendgateId: string | null;
  /** The returned original's Message-ID, as written (with its angle brackets). */
  originalMessageId: string | null;
  /** TOKEN of a VERP address `prefix+TOKEN@domain` the report was sent to. */
  verpToken: string | null;
  /** For complaints (RFC 5965 ARF): Feedback-Type, lower case. */
  feedbackType: string | null;
  /** For complaints: Original-Rcpt-To, else the returned message's To. */
  complainedRecipient: string | null;
  /** The report's own Subject, decoded. */
  subject: string | null;
  /** For auto-replies: who replied (the report's From address). */
  autoReplyFrom: string | null;
}

/** How much of each text part is scanned: a 50 MB bounce costs what a 256 KiB one does. */
const SCAN_LIMIT = 256 * 1024;
/** Delivery-status parts get more room: 500 recipients take about 150 KiB. */
const STATUS_LIMIT = 4 * 1024 * 1024;
const HEADER_LIMIT = 64 * 1024;

const STATUS_TYPES = new Set(["message/delivery-status", "message/global-delivery-status"]);
const RETURNED_TYPES = new Set([
  "message/rfc822",
  "message/global",
  "text/rfc822-headers",
  "message/global-headers",
  "message/partial",
]);

interface Sources {
  statusParts: string[];
  feedbackParts: string[];
  /** Header blocks of the returned original, parsed. */
  returned: Fields[];
  /** Human-readable text: the text parts, text attachments, or the stripped HTML. */
  texts: string[];
}

export async function parseBounce(raw: Buffer | string): Promise<ParsedBounce> {
  try {
    return await parse(raw);
  } catch {
    return empty(null);
  }
}

function empty(subject: string | null): ParsedBounce {
  return {
    kind: "unknown",
    recipients: [],
    sendgateId: null,
    originalMessageId: null,
    verpToken: null,
    feedbackType: null,
    complainedRecipient: null,
    subject,
    autoReplyFrom: null,
  };
}

async function parse(raw: Buffer | string): Promise<ParsedBounce> {
  const buffer = typeof raw === "string" ? Buffer.from(raw, "utf8") : Buffer.from(raw);
  if (buffer.length === 0) return empty(null);
  const { headerText, bodyOffset } = splitRaw(buffer);
  const headers = parseFields(headerBlock(headerText));

  let mail = await mimeParse(buffer);
  const repaired = mail && needsBoundaryRepair(mail) ? repairBoundary(buffer, headerText) : null;
  if (repaired) mail = (await mimeParse(repaired)) ?? mail;

  const subject = (mail?.subject ?? field(headers, "subject"))?.trim() || null;
  const sources = mail
    ? collect(mail)
    : { statusParts: [], feedbackParts: [], returned: [], texts: [] };
  const rawBody = () => buffer.subarray(bodyOffset, bodyOffset + SCAN_LIMIT).toString("utf8");
  if (sources.texts.length === 0 && sources.statusParts.length === 0) sources.texts.push(rawBody());

  let result = analyze(headers, subject, sources);
  if (result.kind === "unknown" && mail) {
    // Broken MIME (a wrong boundary, a part header on the wrong line) hides the report from the
    // MIME parser: read the raw body as text before giving up.
    const fallback = { ...sources, texts: [...sources.texts, rawBody()] };
    const second = analyze(headers, subject, fallback);
    if (second.kind !== "unknown") result = second;
  }
  attribute(result, headers, sources, rawBody);
  return result;
}

async function mimeParse(buffer: Buffer): Promise<ParsedMail | null> {
  try {
    return await simpleParser(buffer, {
      keepDeliveryStatus: true,
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
  } catch {
    return null;
  }
}

/** The top header block (as latin1: header bytes are ASCII, or should be) and where the body starts. */
function splitRaw(buffer: Buffer): { headerText: string; bodyOffset: number } {
  const head = buffer.subarray(0, HEADER_LIMIT).toString("latin1");
  const match = /\r?\n\r?\n/u.exec(head);
  if (!match) return { headerText: head, bodyOffset: head.length };
  return { headerText: head.slice(0, match.index), bodyOffset: match.index + match[0].length };
}

function needsBoundaryRepair(mail: ParsedMail): boolean {
  const type = mail.headers.get("content-type") as { value?: string } | undefined;
  return /^multipart\//iu.test(type?.value ?? "") && mail.attachments.length === 0 &&
    !mail.text?.trim();
}

/**
 * Anonymized and hand-edited bounces often declare one boundary and use another. When the
 * declared one never appears, take the first `--token` line of the body as the boundary.
 */
function repairBoundary(buffer: Buffer, headerText: string): Buffer | null {
  const declared = /boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))/iu.exec(headerText);
  if (!declared) return null;
  const body = buffer.subarray(headerText.length, headerText.length + SCAN_LIMIT).toString(
    "latin1",
  );
  const boundary = declared[1] ?? declared[2]!;
  if (body.includes(`--${boundary}`)) return null;
  const used = /^--([^\s]{1,200}?)(?:--)?[ \t]*\r?$/mu.exec(body);
  if (!used) return null;
  const fixed = headerText.slice(0, declared.index) + `boundary="${used[1]}"` +
    headerText.slice(declared.index + declared[0].length);
  return Buffer.concat([Buffer.from(fixed, "latin1"), buffer.subarray(headerText.length)]);
}

function text(attachment: Attachment, limit: number): string {
  return attachment.content.subarray(0, limit).toString("utf8");
}

function collect(mail: ParsedMail): Sources {
  const sources: Sources = { statusParts: [], feedbackParts: [], returned: [], texts: [] };
  if (mail.text?.trim()) sources.texts.push(mail.text.slice(0, SCAN_LIMIT));
  else if (typeof mail.html === "string") {
    sources.texts.push(stripHtml(mail.html.slice(0, SCAN_LIMIT)));
  }
  for (const attachment of mail.attachments) {
    const type = attachment.contentType.toLowerCase();
    if (STATUS_TYPES.has(type)) sources.statusParts.push(text(attachment, STATUS_LIMIT));
    else if (type === "message/feedback-report") {
      sources.feedbackParts.push(text(attachment, SCAN_LIMIT));
    } else if (RETURNED_TYPES.has(type)) {
      sources.returned.push(parseFields(headerBlock(text(attachment, HEADER_LIMIT))));
    } else if (type === "text/html") sources.texts.push(stripHtml(text(attachment, SCAN_LIMIT)));
    else if (type.startsWith("text/")) sources.texts.push(text(attachment, SCAN_LIMIT));
  }
  return sources;
}

function stripHtml(html: string): string {
  return html
    .replace(/<(?:script|style)\b[\s\S]*?<\/(?:script|style)>/giu, " ")
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d)\b[^>]*>/giu, "\n")
    .replace(/<[^>]*>/gu, "")
    .replace(/&nbsp;/giu, " ")
    .replace(/&lt;/giu, "<")
    .replace(/&gt;/giu, ">")
    .replace(/&quot;/giu, '"')
    .replace(/&#39;|&apos;/giu, "'")
    .replace(/&amp;/giu, "&");
}

function analyze(headers: Fields, subject: string | null, sources: Sources): ParsedBounce {
  const result = empty(subject);
  const contentType = field(headers, "content-type") ?? "";
  const joined = sources.texts.join("\n");

  // RFC 5965: an abuse report, as a part or written inline.
  const inlineFeedback = sources.texts.find(looksLikeInlineFeedback);
  if (
    /report-type\s*=\s*"?feedback-report/iu.test(contentType) || sources.feedbackParts.length > 0 ||
    inlineFeedback
  ) {
    const report = parseFeedbackReport(sources.feedbackParts[0] ?? inlineFeedback ?? "");
    const to = sources.returned.map((f) => field(f, "to")).find((v) => v !== null);
    result.kind = "complaint";
    result.feedbackType = report.feedbackType;
    result.complainedRecipient = report.originalRcptTo ?? (to ? normalizeAddress(to) : null);
    return result;
  }

  const ses = parseSesNotification(joined);
  if (ses) {
    result.kind = ses.kind;
    result.recipients = ses.recipients;
    result.feedbackType = ses.feedbackType;
    result.complainedRecipient = ses.complainedRecipient;
    result.sendgateId = ses.sendgateId;
    result.originalMessageId = ses.messageId;
    return result;
  }

  const exclude = new Set(
    // The report's writer, and the VERP address it went to; not its To in general: anonymized and
    // test reports often send the bounce to the failed address itself.
    ["from", "reply-to", "sender", "to"].flatMap((name) =>
      (headers.get(name) ?? []).flatMap((v) => findAddresses(v))
        .filter((a) => name !== "to" || a.slice(0, a.lastIndexOf("@")).includes("+"))
        .map((a) => a.toLowerCase())
    ),
  );
  const plainContext = { subject: subject ?? "", from: field(headers, "from") ?? "", exclude };

  // RFC 3464: delivery-status parts, else the same fields written in a text part.
  let structured = sources.statusParts.flatMap(parseDeliveryStatus);
  if (structured.length === 0) {
    for (const t of sources.texts) {
      if (looksLikeInlineStatus(t)) structured = structured.concat(parseDeliveryStatus(t));
    }
  }
  if (structured.length > 0) {
    enrich(structured, parsePlainText(joined, plainContext).recipients);
    stageFromTranscript(structured, transcriptErrors(joined));
    result.kind = "dsn";
    result.recipients = structured;
    return result;
  }

  // Order matters: Exim marks its bounces `Auto-Submitted: auto-replied`, so a report in a bounce
  // writer's own phrasing wins over the auto-reply headers; a bounce-like subject or sender wins
  // over them too.
  const autoReplyFrom = findAddresses(field(headers, "from") ?? "")[0] ?? null;
  const plain = parsePlainText(joined, plainContext);
  if (plain.recipients.length > 0 && plain.strong) {
    result.kind = "dsn";
    result.recipients = plain.recipients;
    return result;
  }
  const bounceLike = isBounceLike(plainContext.subject, plainContext.from);
  if (
    (subject !== null && hasAutoReplySubject(subject)) ||
    (hasAutoReplyHeaders(headers) && !bounceLike)
  ) {
    result.kind = "autoReply";
    result.autoReplyFrom = autoReplyFrom;
    return result;
  }
  if (plain.recipients.length > 0) {
    result.kind = "dsn";
    result.recipients = plain.recipients;
    return result;
  }
  // Exim names the failed addresses in a header too; the text may be unreadable.
  const failed = (headers.get("x-failed-recipients") ?? []).flatMap(findAddresses);
  if (failed.length > 0) {
    result.kind = "dsn";
    result.recipients = failed.map((recipient) => ({
      recipient,
      originalRecipient: null,
      action: "failed",
      status: null,
      diagnosticCode: null,
      remoteMta: null,
      stage: null,
    }));
  }
  return result;
}

/**
 * The stage of recipients whose delivery-status block does not say it, from the session
 * transcript in the human-readable part (Sendmail writes `>>> DATA` / `<<< 550 …` there): the
 * error reply naming the recipient, or the one whose text is the diagnostic's, or the only stage
 * the transcript's errors have.
 */
function stageFromTranscript(
  recipients: BounceRecipient[],
  errors: readonly { stage: BounceRecipient["stage"]; reply: string }[],
): void {
  if (errors.length === 0) return;
  const stages = new Set(errors.map((e) => e.stage));
  for (const r of recipients) {
    if (r.stage) continue;
    const address = r.recipient.toLowerCase();
    const diagnostic = (r.diagnosticCode ?? "").toLowerCase().replace(/\s+/gu, " ").trim();
    const match = errors.find((e) => e.reply.toLowerCase().includes(address)) ??
      errors.find((e) =>
        diagnostic.length > 0 &&
        (diagnostic.includes(e.reply.toLowerCase().replace(/\s+/gu, " ").slice(0, 40)))
      );
    r.stage = match?.stage ?? (stages.size === 1 ? errors[0]!.stage : null);
  }
}

/** Fills what a delivery-status block left out from the human-readable part about the same address. */
function enrich(structured: BounceRecipient[], plain: readonly BounceRecipient[]): void {
  const byAddress = new Map(plain.map((r) => [r.recipient.toLowerCase(), r]));
  for (const r of structured) {
    const other = byAddress.get(r.recipient.toLowerCase()) ??
      (r.originalRecipient ? byAddress.get(r.originalRecipient.toLowerCase()) : undefined) ??
      (structured.length === 1 && plain.length === 1 ? plain[0] : undefined);
    if (!other) continue;
    r.diagnosticCode ??= other.diagnosticCode;
    r.status ??= other.status;
    r.remoteMta ??= other.remoteMta;
    r.stage ??= other.stage;
  }
}

/** Names the message the report is about: the returned original's headers, then the VERP address. */
function attribute(
  result: ParsedBounce,
  headers: Fields,
  sources: Sources,
  rawBody: () => string,
): void {
  for (const returned of sources.returned) {
    result.sendgateId ??= field(returned, "x-sendgate-id");
    result.originalMessageId ??= field(returned, "message-id");
  }
  // The original may be quoted in the text (qmail, Exim, Exchange) or hidden by broken MIME.
  const texts = [...sources.texts.map((t) => t.slice(0, SCAN_LIMIT)), rawBody()];
  for (const t of texts) {
    result.sendgateId ??= /^[ \t>]*X-Sendgate-Id[ \t]*:[ \t]*(\S+)/imu.exec(t)?.[1] ?? null;
    result.originalMessageId ??= /^[ \t>]*Message-Id[ \t]*:[ \t]*(<[^\s>]+>)/imu.exec(t)?.[1] ??
      null;
  }
  for (const name of ["delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to"]) {
    for (const value of headers.get(name) ?? []) {
      for (const address of findAddresses(value)) {
        const local = address.slice(0, address.lastIndexOf("@"));
        const plus = local.indexOf("+");
        if (plus >= 0 && plus < local.length - 1) {
          result.verpToken ??= local.slice(plus + 1);
        }
      }
    }
  }
}
