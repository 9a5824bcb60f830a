/**
 * Amazon SES notifications forwarded by email (SNS to an address): a JSON document with
 * `notificationType` (or `eventType`) Bounce, Complaint or Delivery, as Sisimai's
 * lhost/amazonses.rb reads them.
 */
import type { BounceRecipient } from "./parse.ts";
import { detectStage, findStatus, normalizeAddress } from "./fields.ts";

export interface SesNotification {
  kind: "dsn" | "complaint";
  recipients: BounceRecipient[];
  feedbackType: string | null;
  complainedRecipient: string | null;
  sendgateId: string | null;
  messageId: string | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (
  v: unknown,
): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

function document(text: string): Json | null {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return null;
  try {
    let value: unknown = JSON.parse(text.slice(start, end + 1));
    // An SNS envelope carries the notification as a string in Message.
    if (isObject(value) && typeof value.Message === "string") value = JSON.parse(value.Message);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function parseSesNotification(text: string): SesNotification | null {
  if (!/"(?:notificationType|eventType)"/u.test(text)) return null;
  const doc = document(text);
  if (!doc) return null;
  const type = (str(doc.notificationType) ?? str(doc.eventType) ?? "").toLowerCase();
  const mail = isObject(doc.mail) ? doc.mail : {};
  let sendgateId: string | null = null;
  for (const header of list(mail.headers)) {
    if (str(header.name)?.toLowerCase() === "x-sendgate-id") sendgateId = str(header.value);
  }
  const common = isObject(mail.commonHeaders) ? mail.commonHeaders : {};
  const messageId = str(common.messageId);
  const base = { sendgateId, messageId, feedbackType: null, complainedRecipient: null };
  if (type === "bounce" && isObject(doc.bounce)) {
    const bounce = doc.bounce;
    const transient = str(bounce.bounceType)?.toLowerCase() === "transient";
    const recipients: BounceRecipient[] = [];
    for (const r of list(bounce.bouncedRecipients)) {
      const address = normalizeAddress(str(r.emailAddress) ?? "");
      if (!address) continue;
      const diagnostic = str(r.diagnosticCode)?.replace(/^\s*smtp\s*;\s*/iu, "") ?? null;
      const action = str(r.action)?.toLowerCase() ?? (transient ? "delayed" : "failed");
      recipients.push({
        recipient: address,
        originalRecipient: null,
        action,
        status: findStatus(str(r.status) ?? "") ?? (diagnostic ? findStatus(diagnostic) : null),
        diagnosticCode: diagnostic,
        remoteMta: str(bounce.reportingMTA)?.replace(/^dns\s*;\s*/iu, "") ?? null,
        stage: diagnostic ? detectStage(diagnostic) : null,
      });
    }
    return { kind: "dsn", recipients, ...base };
  }
  if (type === "complaint" && isObject(doc.complaint)) {
    const first = list(doc.complaint.complainedRecipients)[0];
    return {
      kind: "complaint",
      recipients: [],
      ...base,
      feedbackType: str(doc.complaint.complaintFeedbackType)?.toLowerCase() ?? "abuse",
      complainedRecipient: first ? normalizeAddress(str(first.emailAddress) ?? "") : null,
    };
  }
  if (type === "delivery" && isObject(doc.delivery)) {
    const recipients: BounceRecipient[] = [];
    for (const value of Array.isArray(doc.delivery.recipients) ? doc.delivery.recipients : []) {
      const address = normalizeAddress(typeof value === "string" ? value : "");
      if (!address) continue;
      const reply = str(doc.delivery.smtpResponse);
      recipients.push({
        recipient: address,
        originalRecipient: null,
        action: "delivered",
        status: reply ? findStatus(reply) : null,
        diagnosticCode: reply,
        remoteMta: str(doc.delivery.remoteMtaIp),
        stage: null,
      });
    }
    return { kind: "dsn", recipients, ...base };
  }
  return null;
}
