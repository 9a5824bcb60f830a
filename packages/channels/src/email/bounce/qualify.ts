import { type CompiledRules, type QualificationInput, qualify, reasons } from "@sendgate/core";
import type { BounceRecipient, ParsedBounce } from "./parse.ts";

/**
 * One recipient of an incoming report, qualified as the gateway stores it: the same code for the
 * bounce listener, the importer and `npm run qualify` (DOMAIN §4, §6, §10).
 */
export interface QualifiedRecipient {
  /** 1-based, in the order the report names its recipients. */
  index: number;
  recipient: string;
  /** The DSN's Action (`failed`, `delayed` …), or `autoReply` / `complaint`. */
  action: string;
  status: string | null;
  diagnostic: string | null;
  stage: BounceRecipient["stage"];
  /** Null when the report says the message went (delivered, relayed, expanded). */
  type: string | null;
  reason: number | null;
  label: string | null;
  /** The rule that decided (its id), `enhanced` / `class` for the code tables, null otherwise. */
  rule: string | null;
  /** The qualification table's key for this text (null for auto-replies and complaints). */
  normalized: string | null;
  /**
   * Whether the report fails the message. A delayed report is qualified and recorded but does
   * not (DOMAIN §4: the remote server is still trying); an auto-reply never counts; a complaint
   * denylists the address without failing the message.
   */
  fails: boolean;
  /** A rule or code table decided without confidence: the table entry starts "to qualify". */
  toQualify: boolean;
}

const label = (reason: number) => reasons[reason as keyof typeof reasons]?.label ?? null;

/** Qualifies every recipient of a parsed report with the rules given (none for an unknown one). */
export function qualifyBounce(rules: CompiledRules, parsed: ParsedBounce): QualifiedRecipient[] {
  switch (parsed.kind) {
    case "autoReply":
      // An out-of-office reply is not a failure of anyone's address: ignored, never counted.
      return parsed.autoReplyFrom
        ? [{
          index: 1,
          recipient: parsed.autoReplyFrom,
          action: "autoReply",
          status: null,
          diagnostic: null,
          stage: null,
          type: "ignored",
          reason: 0,
          label: "Auto-reply (ignored)",
          rule: null,
          normalized: null,
          fails: false,
          toQualify: false,
        }]
        : [];
    case "complaint":
      // RFC 5965: the recipient complained; DOMAIN §4: on the denylist (reason 8).
      return parsed.complainedRecipient
        ? [{
          index: 1,
          recipient: parsed.complainedRecipient,
          action: "complaint",
          status: null,
          diagnostic: parsed.feedbackType,
          stage: null,
          type: "hard",
          reason: 8,
          label: label(8),
          rule: null,
          normalized: null,
          fails: false,
          toQualify: false,
        }]
        : [];
    case "dsn":
    case "unknown":
      return parsed.recipients.map((r, i) => qualifyRecipient(rules, r, i + 1));
  }
}

function qualifyRecipient(
  rules: CompiledRules,
  r: BounceRecipient,
  index: number,
): QualifiedRecipient {
  const action = r.action.trim().toLowerCase() || "failed";
  const delayed = action === "delayed";
  const input: QualificationInput = {
    channel: "email",
    kind: "dsn",
    // A delayed report is qualified as what it would be if it failed: its reason is recorded.
    action: delayed ? "failed" : action,
    ...(r.status ? { status: r.status } : {}),
    ...(r.diagnosticCode ? { diagnosticCode: r.diagnosticCode } : {}),
    ...(r.stage ? { stage: r.stage } : {}),
  };
  const q = qualify(rules, input);
  const base = {
    index,
    recipient: r.recipient,
    action,
    status: r.status,
    diagnostic: r.diagnosticCode,
    stage: r.stage,
    normalized: q.normalized,
  };
  if (q.verdict.outcome !== "failure") {
    return {
      ...base,
      type: null,
      reason: null,
      label: null,
      rule: null,
      fails: false,
      toQualify: false,
    };
  }
  const v = q.verdict;
  return {
    ...base,
    type: v.type,
    reason: v.reason,
    label: label(v.reason),
    rule: v.ruleId ?? (v.source === "enhanced" || v.source === "class" ? v.source : null),
    fails: !delayed,
    toQualify: v.toQualify,
  };
}
