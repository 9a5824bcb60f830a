import type { FailureType, MessageStatus, ReasonCode } from "@sendgate/core";

/**
 * What the gateway should conclude from an outcome, per DOMAIN §10: the ledger's ground truth.
 * `status` is where the message ends if this outcome is the last word (no retry left), `retried`
 * whether the gateway is expected to try again within the validity period.
 */
export interface Expected {
  status: MessageStatus;
  type?: FailureType;
  reason?: ReasonCode;
  retried: boolean;
  /** A complaint: the address must end on the denylist. */
  denylist?: boolean;
}

const failed = (type: FailureType, reason: ReasonCode): Expected => ({
  status: "failed",
  type,
  reason,
  retried: type !== "hard",
});

/** Email outcomes: what the remote mail server does with one recipient. */
export const emailOutcomes = {
  /** 250, delivered. */
  accept: { expected: { status: "sent", retried: false } },
  /** 550 5.1.1 at RCPT. */
  userUnknown: { expected: failed("hard", 1) },
  /** 452 4.2.2 at RCPT. */
  mailboxFull: { expected: failed("soft", 5) },
  /** 552 5.2.2 after DATA. */
  mailboxFullAfterData: { expected: failed("soft", 5) },
  /** 550 5.1.2 / 5.4.4: the domain does not exist. */
  badDomain: { expected: failed("soft", 2) },
  /** 550 5.2.1: account disabled. */
  disabled: { expected: failed("soft", 4) },
  /** 554 5.7.1: the message's content refused as spam. */
  spam: { expected: failed("soft", 20) },
  /**
   * 554 5.7.1: our sending IP on a blocklist or of bad reputation. DOMAIN §10: a refusal about
   * the sender, not the address: ignored 20 (retried, never counted).
   */
  blocked: { expected: failed("ignored", 20) },
  /** 421 4.7.0 and the connection closes. */
  tryLater: { expected: failed("ignored", 3) },
  /** 450 4.7.1 greylisting. */
  greylist: { expected: failed("ignored", 3) },
  /** The connection drops in the middle of the transaction. */
  drop: { expected: failed("ignored", 3) },
  /** 250, then a DSN (RFC 3464) saying the user is unknown. */
  bounceLater: { expected: failed("hard", 1) },
  /** 250, then a DSN saying the mailbox is full. */
  softBounceLater: { expected: failed("soft", 5) },
  /** 250, then an auto-reply (RFC 3834): not a failure. */
  autoReply: { expected: { status: "sent", retried: false } },
  /** 250, then a spam complaint (RFC 5965 ARF): the address goes on the denylist. */
  complaint: { expected: { status: "sent", retried: false, denylist: true } },
} as const satisfies Record<string, { expected: Expected }>;
export type EmailOutcome = keyof typeof emailOutcomes;

/** SMS outcomes: what the SMSC answers to a submit_sm and which receipt follows. */
export const smsOutcomes = {
  /** submit_sm_resp 0, then DELIVRD. */
  delivered: { expected: { status: "receivedOnMobile", retried: false } },
  /** submit_sm_resp 0, ENROUTE, then DELIVRD. */
  enrouteDelivered: { expected: { status: "receivedOnMobile", retried: false } },
  /** submit_sm_resp 0, and no receipt ever. */
  acceptedNoReceipt: { expected: { status: "takenIntoAccount", retried: false } },
  /** ESME_RINVDSTADR (0x0B). */
  invalidDestination: { expected: failed("hard", 1) },
  /** ESME_RTHROTTLED (0x58). */
  throttled: { expected: failed("ignored", 3) },
  /** ESME_RMSGQFUL (0x14). */
  queueFull: { expected: failed("ignored", 3) },
  /** ESME_RSYSERR (0x08). */
  systemError: { expected: failed("ignored", 3) },
  /** ESME_RSUBMITFAIL (0x45). */
  submitFailed: { expected: failed("soft", 3) },
  /** No submit_sm_resp at all. */
  noResponse: { expected: failed("ignored", 3) },
  /** 0, then UNDELIV err:001 (unknown subscriber). */
  unknownSubscriber: { expected: failed("hard", 1) },
  /** 0, then UNDELIV err:027 (absent subscriber). */
  absentSubscriber: { expected: failed("ignored", 6) },
  /** 0, then EXPIRED. */
  expired: { expected: failed("ignored", 6) },
  /** 0, then REJECTD. */
  rejected: { expected: failed("soft", 20) },
  /** 0, then DELETED. */
  deleted: { expected: failed("ignored", 3) },
  /** 0, then UNKNOWN. */
  unknown: { expected: failed("undefined", 0) },
} as const satisfies Record<string, { expected: Expected }>;
export type SmsOutcome = keyof typeof smsOutcomes;

/** Push outcomes: the push service's answer (RFC 8030). */
export const pushOutcomes = {
  /** 201 Created. */
  accept: { expected: { status: "sent", retried: false } },
  /** 410 Gone: the subscription expired. */
  gone: { expected: failed("hard", 1) },
  /** 404 Not Found. */
  notFound: { expected: failed("hard", 1) },
  /** 429 with Retry-After. */
  rateLimited: { expected: failed("ignored", 3) },
  /** 500. */
  serverError: { expected: failed("ignored", 3) },
  /** 503. */
  unavailable: { expected: failed("ignored", 3) },
} as const satisfies Record<string, { expected: Expected }>;
export type PushOutcome = keyof typeof pushOutcomes;

/**
 * Answers the push service gives by itself, whatever the scenario: a body over 4096 bytes (413),
 * an undecryptable body or bad headers (400), a bad VAPID header (401/403).
 */
export const pushProtocolAnswers = {
  tooLarge: {
    status: 413,
    expected: { status: "failed", type: "soft", reason: 20, retried: false },
  },
  badRequest: {
    status: 400,
    expected: { status: "failed", type: "ignored", reason: 3, retried: false },
  },
  unauthorized: {
    status: 401,
    expected: { status: "failed", type: "ignored", reason: 3, retried: false },
  },
  forbidden: {
    status: 403,
    expected: { status: "failed", type: "ignored", reason: 3, retried: false },
  },
} as const satisfies Record<string, { status: number; expected: Expected }>;
