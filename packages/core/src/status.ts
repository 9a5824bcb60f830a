import { FailureType, severity } from "./failure.ts";
import type { Failure } from "./failure.ts";

/** Message statuses (DOMAIN §3). */
export const MessageStatus = {
  pending: "pending",
  prepared: "prepared",
  sentToProvider: "sentToProvider",
  takenIntoAccount: "takenIntoAccount",
  sent: "sent",
  receivedOnMobile: "receivedOnMobile",
  failed: "failed",
  ignored: "ignored",
  cancelled: "cancelled",
  notApplicable: "notApplicable",
} as const;
export type MessageStatus = typeof MessageStatus[keyof typeof MessageStatus];
export const messageStatuses: readonly MessageStatus[] = Object.values(MessageStatus);

/** Statuses nothing but stronger evidence can change (received on mobile beats failed). */
export const finalStatuses: ReadonlySet<MessageStatus> = new Set([
  MessageStatus.receivedOnMobile,
  MessageStatus.failed,
  MessageStatus.ignored,
  MessageStatus.notApplicable,
]);

/**
 * What happened to a message. Every event that belongs to one send attempt names it (1-based),
 * so that reports of an earlier attempt cannot move a later one.
 */
export type MessageEvent =
  /** Ready for the sender (first attempt, or a retry that came due). */
  | { type: "queued"; attempt: number }
  /** A sender took it. */
  | { type: "claimed"; attempt: number }
  /** Handed to the SMS provider, not acknowledged yet. */
  | { type: "sentToProvider"; attempt: number }
  /** The SMS provider accepted it (submit_sm_resp 0). */
  | { type: "providerAccepted"; attempt: number }
  /** Transmitted to the recipient's mail server or push service. */
  | { type: "sent"; attempt: number }
  /**
   * A qualified failure: `sync` (SMTP reply, submit_sm_resp, push status, timeout), `bounce`
   * (asynchronous DSN, provider callback) or `receipt` (SMS delivery receipt, with its `stat`).
   * `retryAt` is when the next attempt may go (see `nextRetryAt`), null when there is none.
   */
  | {
    type: "failure";
    origin: "sync" | "bounce" | "receipt";
    attempt: number;
    failure: Failure;
    retryAt: number | null;
    stat?: string;
  }
  /** A delivery receipt that says delivered (DELIVRD) or only reports progress (ENROUTE…). */
  | { type: "receipt"; attempt: number; delivered: boolean; stat?: string }
  /** A spam complaint (ARF) about the message: the message stays as it is, the address is denylisted. */
  | { type: "complaint"; attempt: number }
  /** The sender took it into account but did not process it (external connector). */
  | { type: "notApplicable"; attempt: number }
  /** Cancelled by an operator: what has not gone out stays; evidence that it went out wins. */
  | { type: "cancel" }
  /**
   * The validity period ended while attempt `attempt` was still waiting (never claimed): the
   * message fails. The expiry job only expires messages no sender holds, so a message that is in
   * flight when validity ends finishes its attempt.
   */
  | { type: "validityExpired"; attempt: number };

export type MessageEffect =
  /** Queue attempt `attempt` at `at` (epoch ms). */
  | { kind: "scheduleRetry"; attempt: number; at: number }
  /** Feed the quarantine policy with this failure of the address. */
  | { kind: "addressFailure"; failure: Failure }
  /** Put the address on the denylist (DOMAIN §4, feedback loop). */
  | { kind: "denylist" };

// How far the latest attempt got.
const Stage = { queued: 0, claimed: 1, sentToProvider: 2, accepted: 3, sent: 4 } as const;
type Stage = typeof Stage[keyof typeof Stage];

type Outcome = "notApplicable" | "failed" | "receivedOnMobile" | "ignored";
// Stronger evidence wins: a handset's receipt is the truth, an exclusion was never sent.
const outcomeRank: Record<Outcome, number> = {
  notApplicable: 1,
  failed: 2,
  receivedOnMobile: 3,
  ignored: 4,
};

export interface RecordedFailure extends Failure {
  attempt: number;
  final: boolean;
}

/**
 * A message's state. Every field is a join of the events seen so far (maximum, union, or), so
 * the same events in any order, any number of times, give the same state: reports that arrive
 * late, twice, or before the acknowledgement they follow cannot move a message backwards.
 * `status` is derived from the rest.
 */
export interface MessageState {
  readonly status: MessageStatus;
  /** The latest attempt known (1-based). */
  readonly attempt: number;
  readonly stage: Stage;
  readonly outcome: Outcome | null;
  readonly cancelled: boolean;
  readonly complained: boolean;
  /** The most telling failure: latest attempt, then final, then severity. */
  readonly failure: RecordedFailure | null;
  /** The latest retry scheduled: attempt `attempt` may go at `at` (epoch ms). */
  readonly retry: { readonly attempt: number; readonly at: number } | null;
  /** Failure reports already applied (`origin:attempt[:stat]`): a duplicate has no effect. */
  readonly seen: readonly string[];
}

export interface Transition {
  state: MessageState;
  effects: MessageEffect[];
}

export function initialState(): MessageState {
  return derive({
    attempt: 1,
    stage: Stage.queued,
    outcome: null,
    cancelled: false,
    complained: false,
    failure: null,
    retry: null,
    seen: [],
  });
}

/** A recipient excluded while the delivery was prepared (reasons 7–17, 127): Ignored for good. */
export function excludedState(failure: Failure): MessageState {
  const state = initialState();
  return derive({ ...state, outcome: "ignored", failure: { ...failure, attempt: 0, final: true } });
}

function derive(s: Omit<MessageState, "status">): MessageState {
  return { ...s, status: statusOf(s) };
}

function statusOf(s: Omit<MessageState, "status">): MessageStatus {
  if (s.outcome) return MessageStatus[s.outcome];
  switch (s.stage) {
    case Stage.sent:
      return MessageStatus.sent;
    case Stage.accepted:
      return MessageStatus.takenIntoAccount;
    case Stage.sentToProvider:
      return MessageStatus.sentToProvider;
  }
  // Not out of our hands yet: a cancel decides.
  if (s.cancelled) return MessageStatus.cancelled;
  return s.stage === Stage.claimed ? MessageStatus.prepared : MessageStatus.pending;
}

/** Lexicographic maximum of (attempt, stage). */
function reach(s: Omit<MessageState, "status">, attempt: number, stage: Stage) {
  if (attempt > s.attempt) return { attempt, stage };
  if (attempt === s.attempt && stage > s.stage) return { attempt, stage };
  return { attempt: s.attempt, stage: s.stage };
}

function joinOutcome(a: Outcome | null, b: Outcome | null): Outcome | null {
  if (!a) return b;
  if (!b) return a;
  return outcomeRank[b] > outcomeRank[a] ? b : a;
}

const failureKey = (f: RecordedFailure) => [f.attempt, f.final ? 1 : 0, severity[f.type], f.reason];

function joinFailure(a: RecordedFailure | null, b: RecordedFailure): RecordedFailure {
  if (!a) return b;
  const ka = failureKey(a);
  const kb = failureKey(b);
  for (let i = 0; i < ka.length; i++) {
    if (kb[i]! !== ka[i]!) return kb[i]! > ka[i]! ? b : a;
  }
  return a;
}

function joinRetry(a: MessageState["retry"], b: NonNullable<MessageState["retry"]>) {
  if (!a || b.attempt > a.attempt || (b.attempt === a.attempt && b.at > a.at)) return b;
  return a;
}

const STAGE_OF = {
  queued: Stage.queued,
  claimed: Stage.claimed,
  sentToProvider: Stage.sentToProvider,
  providerAccepted: Stage.accepted,
  sent: Stage.sent,
} as const;

/**
 * The message status machine (DOMAIN §3–5): `apply(state, event) → { state, effects }`.
 * Idempotent for duplicate events; order-insensitive for the events of one message's life.
 */
export function apply(state: MessageState, event: MessageEvent): Transition {
  const { status: _status, ...s } = state;
  const unchanged: Transition = { state, effects: [] };
  switch (event.type) {
    case "queued":
    case "claimed":
    case "sentToProvider":
    case "providerAccepted":
    case "sent":
      return {
        state: derive({ ...s, ...reach(s, event.attempt, STAGE_OF[event.type]) }),
        effects: [],
      };

    case "receipt":
      if (!event.delivered) return unchanged; // ENROUTE, ACCEPTD…: progress, no status change
      return {
        state: derive({ ...s, outcome: joinOutcome(s.outcome, "receivedOnMobile") }),
        effects: [],
      };

    case "notApplicable":
      return {
        state: derive({ ...s, outcome: joinOutcome(s.outcome, "notApplicable") }),
        effects: [],
      };

    case "complaint":
      if (s.complained) return unchanged;
      return { state: derive({ ...s, complained: true }), effects: [{ kind: "denylist" }] };

    case "cancel":
      return s.cancelled ? unchanged : { state: derive({ ...s, cancelled: true }), effects: [] };

    case "validityExpired":
      return { state: derive({ ...s, outcome: joinOutcome(s.outcome, "failed") }), effects: [] };

    case "failure": {
      const key = `${event.origin}:${event.attempt}${event.stat ? `:${event.stat}` : ""}`;
      if (s.seen.includes(key)) return unchanged;
      const retriable = event.failure.type !== FailureType.hard && event.retryAt !== null;
      const recorded: RecordedFailure = {
        ...event.failure,
        attempt: event.attempt,
        final: !retriable,
      };
      let next: Omit<MessageState, "status"> = {
        ...s,
        seen: [...s.seen, key],
        failure: joinFailure(s.failure, recorded),
      };
      if (retriable) {
        const retry = { attempt: event.attempt + 1, at: event.retryAt! };
        next = {
          ...next,
          ...reach(next, retry.attempt, Stage.queued),
          retry: joinRetry(s.retry, retry),
        };
      } else {
        next = { ...next, outcome: joinOutcome(next.outcome, "failed") };
      }
      const result = derive(next);
      const effects: MessageEffect[] = [{ kind: "addressFailure", failure: event.failure }];
      if (
        retriable && result.status === MessageStatus.pending && result.attempt === event.attempt + 1
      ) {
        effects.push({ kind: "scheduleRetry", attempt: result.attempt, at: event.retryAt! });
      }
      return { state: result, effects };
    }
  }
}

/** Applies events in order; returns the last state and every effect. */
export function applyAll(state: MessageState, events: Iterable<MessageEvent>): Transition {
  const effects: MessageEffect[] = [];
  let current = state;
  for (const event of events) {
    const t = apply(current, event);
    current = t.state;
    effects.push(...t.effects);
  }
  return { state: current, effects };
}
