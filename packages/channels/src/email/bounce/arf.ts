/**
 * Abuse reports (RFC 5965 ARF): the machine-readable `message/feedback-report` part is one block
 * of header-style fields. DOMAIN.md §4: a complaint puts the complained-about address on the
 * denylist, so what matters is who complained and of what kind.
 */
import { field, normalizeAddress, parseFields, splitBlocks } from "./fields.ts";

export interface FeedbackReport {
  feedbackType: string | null;
  /** Original-Rcpt-To (RFC 5965 §3.2), when the reporter kept it. */
  originalRcptTo: string | null;
}

export function parseFeedbackReport(text: string): FeedbackReport {
  // Usually one block; join them in case a reporter put blank lines between fields.
  const fields = parseFields(splitBlocks(text).flat());
  const type = field(fields, "feedback-type");
  const rcpt = field(fields, "original-rcpt-to") ?? field(fields, "removal-recipient");
  return {
    feedbackType: type ? type.toLowerCase().split(/[\s;]/u)[0] || null : null,
    originalRcptTo: rcpt ? normalizeAddress(rcpt) : null,
  };
}

/** An ARF report written inline in a text part (some providers do): Feedback-Type at a line start. */
export function looksLikeInlineFeedback(text: string): boolean {
  return /^Feedback-Type[ \t]*:/imu.test(text) &&
    /^(?:User-Agent|Version|Original-Mail-From|Original-Rcpt-To|Arrival-Date)[ \t]*:/imu.test(text);
}
