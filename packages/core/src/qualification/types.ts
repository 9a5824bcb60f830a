import type { Channel } from "../channel.ts";
import type { FailureType, ReasonCode } from "../failure.ts";

/**
 * What a channel saw, as it saw it. The engine turns each into one canonical text (the line the
 * qualification table records and rules match against) and qualifies it.
 */
export type QualificationInput =
  /** An SMTP reply during the session: basic code, enhanced code (RFC 3463) when given, text. */
  | {
    channel: "email";
    kind: "smtp";
    code: number;
    enhanced?: string;
    text: string;
    /**
     * The command the reply answered, when known. After DATA the address was already accepted
     * at RCPT: a "user unknown" there is usually a content filter speaking (DOMAIN §10).
     */
    stage?: "connect" | "helo" | "mail" | "rcpt" | "data";
  }
  /** One recipient of an RFC 3464 delivery status notification. */
  | {
    channel: "email";
    kind: "dsn";
    action: string;
    status?: string;
    diagnosticCode?: string;
    /** The SMTP command the remote reply answered, when the report says it (as for `smtp`). */
    stage?: "connect" | "helo" | "mail" | "rcpt" | "data";
  }
  /** SMPP submit_sm_resp (or data_sm_resp) command_status. */
  | { channel: "sms"; kind: "submit"; commandStatus: number }
  /** An SMS delivery receipt (SMPP deliver_sm text, or an HTTP callback). */
  | { channel: "sms"; kind: "receipt"; stat: string; err?: string; provider?: string }
  /** A push service's HTTP answer (RFC 8030). */
  | { channel: "push"; kind: "http"; status: number; body?: string; retryAfterMs?: number }
  /**
   * No answer: a transport error before any protocol reply (timeout, refused or dropped
   * connection, TLS failure, DNS). `code` is the error code (`ETIMEDOUT`, `ENOTFOUND`, …).
   */
  | { channel: Channel; kind: "network"; code: string; text?: string };

/** How a failure is retried (DOMAIN §5 and §10). */
export const RetryMode = {
  /** Along the delivery's retry schedule, within the validity period. */
  schedule: "schedule",
  /** Soon, with back-off (provider busy or throttling): does not use up a scheduled retry. */
  backoff: "backoff",
  /** Never: the message itself is at fault (push 400/413) or the address is invalid (hard). */
  never: "never",
} as const;
export type RetryMode = typeof RetryMode[keyof typeof RetryMode];

/** Status of an entry in the qualification table (DOMAIN §6). */
export const EntryStatus = { toQualify: "toQualify", keep: "keep", ignore: "ignore" } as const;
export type EntryStatus = typeof EntryStatus[keyof typeof EntryStatus];

/** Which step of the engine decided. */
export type MatchSource = "rule" | "enhanced" | "class" | "none";

export interface FailureVerdict {
  outcome: "failure";
  type: FailureType;
  reason: ReasonCode;
  retry: RetryMode;
  /** Wait at least this long before retrying (push 429 Retry-After). */
  retryAfterMs?: number;
  /** Our own configuration is wrong (push 401/403): pause the delivery and flag it. */
  pauseDelivery?: boolean;
  /** Id of the rule that matched; null when a code table or nothing decided. */
  ruleId: string | null;
  source: MatchSource;
  /** True when no confident rule decided: the table entry starts as "to qualify". */
  toQualify: boolean;
}

export type Verdict =
  /** Accepted: `sent` (email, push), `takenIntoAccount` (SMPP submit), `receivedOnMobile` (receipt). */
  | { outcome: "success"; status: "sent" | "takenIntoAccount" | "receivedOnMobile" }
  /** Progress report that changes nothing (SMS ENROUTE/ACCEPTD…, DSN delayed/relayed). */
  | { outcome: "intermediate" }
  | FailureVerdict;

/** A qualified input with the texts the qualification table needs. */
export interface Qualification {
  verdict: Verdict;
  /** The canonical text as received (kept as the entry's "first text"). */
  text: string;
  /** The normalized text: the qualification table's key within a channel. */
  normalized: string;
}

export type RuleLayer = "shipped" | "operator";

/**
 * One qualification rule. `pattern` is a case-insensitive substring, or a regular expression
 * when `regex` is true; either is matched against the canonical text (see `canonicalText`), e.g.
 * `550 5.1.1 <a@b.example>: user unknown`, `SMPP 0x0b ESME_RINVDSTADR`,
 * `SR smsc UNDELIV 001|#MESSAGE#`, `PUSH 410 Gone`, `NET ETIMEDOUT connect timed out`.
 */
export interface Rule {
  id: string;
  channel: Channel;
  pattern: string;
  regex?: boolean;
  type: FailureType;
  reason: ReasonCode;
  /** Default: `never` for hard, `schedule` otherwise. */
  retry?: RetryMode;
  /** Our own configuration is at fault: pause the delivery (push 401/403). */
  pauseDelivery?: boolean;
  /** What the rule is for (shown to operators). */
  note?: string;
}

/** Shipped and operator rules kept apart: the operator layer wins (DOMAIN §6). */
export interface RuleSet {
  shipped: readonly Rule[];
  operator: readonly Rule[];
}
