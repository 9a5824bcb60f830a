import { FailureType, Reason } from "./failure.ts";
import type { Failure, ReasonCode } from "./failure.ts";
import { DAY } from "./retry.ts";

/** Status of an address in the quarantine table (DOMAIN §7), one table for all channels. */
export const AddressStatus = {
  valid: "valid",
  erroneous: "erroneous",
  quarantined: "quarantined",
  denylisted: "denylisted",
  allowlisted: "allowlisted",
} as const;
export type AddressStatus = typeof AddressStatus[keyof typeof AddressStatus];
export const addressStatuses: readonly AddressStatus[] = Object.values(AddressStatus);

export interface AddressState {
  readonly status: AddressStatus;
  readonly errorCount: number;
  readonly lastType: FailureType | null;
  readonly lastReason: ReasonCode | null;
  readonly lastText: string | null;
  readonly firstErrorAt: number | null;
  readonly lastErrorAt: number | null;
  /** When the address entered its current status (epoch ms). */
  readonly statusSince: number;
  readonly comment: string | null;
}

export interface QuarantineConfig {
  /** Soft errors that quarantine an address (default 5). */
  readonly softThreshold: number;
  /** How long a "mailbox full" quarantine lasts before the cleanup job releases it (default 30 days). */
  readonly mailboxFullReleaseMs: number;
  /** A delivered message resets an erroneous address to valid (default true). */
  readonly resetOnDelivery: boolean;
}

export const defaultQuarantineConfig: QuarantineConfig = {
  softThreshold: 5,
  mailboxFullReleaseMs: 30 * DAY,
  resetOnDelivery: true,
};

export type AddressEvent =
  /**
   * A qualified failure of a message to this address. `ignoreText` is set when the error's
   * qualification entry has status "ignore": such a text never quarantines an address.
   */
  | { kind: "failure"; failure: Failure; text?: string; at: number; ignoreText?: boolean }
  /** A spam complaint (feedback loop). */
  | { kind: "complaint"; at: number; text?: string }
  /** A message to the address was delivered. */
  | { kind: "delivered"; at: number }
  /** An operator sets the status (denylist, allowlist, back to valid…). */
  | { kind: "set"; status: AddressStatus; at: number; comment?: string }
  /** The cleanup job or a re-qualification releases a quarantine. */
  | { kind: "release"; at: number; comment?: string };

export function newAddressState(at: number): AddressState {
  return {
    status: AddressStatus.valid,
    errorCount: 0,
    lastType: null,
    lastReason: null,
    lastText: null,
    firstErrorAt: null,
    lastErrorAt: null,
    statusSince: at,
    comment: null,
  };
}

function withStatus(state: AddressState, status: AddressStatus, at: number): AddressState {
  return status === state.status ? state : { ...state, status, statusSince: at };
}

function recordError(
  state: AddressState,
  type: FailureType,
  reason: ReasonCode,
  text: string | undefined,
  at: number,
  count: boolean,
): AddressState {
  return {
    ...state,
    errorCount: count ? state.errorCount + 1 : state.errorCount,
    lastType: type,
    lastReason: reason,
    lastText: text ?? state.lastText,
    firstErrorAt: state.firstErrorAt ?? at,
    lastErrorAt: at,
  };
}

/**
 * The quarantine policy (DOMAIN §7) as a pure function over an address's state. `null` stands
 * for an address with no entry; a result of `null` means no entry is needed.
 */
export function decideAddress(
  current: AddressState | null,
  event: AddressEvent,
  config: QuarantineConfig = defaultQuarantineConfig,
): AddressState | null {
  const state = current ?? newAddressState(event.at);
  switch (event.kind) {
    case "set": {
      const next = withStatus(state, event.status, event.at);
      const reset = event.status === AddressStatus.valid ? { errorCount: 0 } : {};
      return { ...next, ...reset, comment: event.comment ?? next.comment };
    }
    case "release":
      if (state.status !== AddressStatus.quarantined && state.status !== AddressStatus.erroneous) {
        return current;
      }
      return {
        ...withStatus(state, AddressStatus.valid, event.at),
        errorCount: 0,
        comment: event.comment ?? state.comment,
      };
    case "delivered":
      if (!current || state.status !== AddressStatus.erroneous || !config.resetOnDelivery) {
        return current;
      }
      return { ...withStatus(state, AddressStatus.valid, event.at), errorCount: 0 };
    case "complaint": {
      if (state.status === AddressStatus.allowlisted) {
        return recordError(
          state,
          FailureType.hard,
          Reason.errorIgnored,
          event.text,
          event.at,
          false,
        );
      }
      const next = recordError(
        state,
        FailureType.hard,
        Reason.denylisted,
        event.text,
        event.at,
        false,
      );
      return withStatus(next, AddressStatus.denylisted, event.at);
    }
    case "failure":
      return onFailure(current, state, event, config);
  }
}

function onFailure(
  current: AddressState | null,
  state: AddressState,
  event: Extract<AddressEvent, { kind: "failure" }>,
  config: QuarantineConfig,
): AddressState | null {
  const { type, reason } = event.failure;
  // Ignored and undefined errors say nothing against the address; an "ignore" text neither.
  if (type === FailureType.ignored || type === FailureType.undefined || event.ignoreText) {
    return current;
  }
  switch (state.status) {
    case AddressStatus.allowlisted:
      return recordError(state, type, Reason.errorIgnored, event.text, event.at, false);
    case AddressStatus.denylisted:
      return recordError(state, type, reason, event.text, event.at, true);
  }
  const next = recordError(state, type, reason, event.text, event.at, true);
  if (type === FailureType.hard || next.errorCount >= config.softThreshold) {
    return withStatus(next, AddressStatus.quarantined, event.at);
  }
  return withStatus(
    next,
    next.status === AddressStatus.quarantined ? AddressStatus.quarantined : AddressStatus.erroneous,
    event.at,
  );
}

/** Whether the cleanup job should set this address back to valid now (mailbox full, 30 days). */
export function dueForRelease(
  state: AddressState,
  now: number,
  config: QuarantineConfig = defaultQuarantineConfig,
): boolean {
  return state.status === AddressStatus.quarantined &&
    state.lastReason === Reason.mailboxFull &&
    now - state.statusSince >= config.mailboxFullReleaseMs;
}

/** The exclusion reason for an address at preparation time, or null when it may be sent to. */
export function exclusionFor(status: AddressStatus | null | undefined): ReasonCode | null {
  if (status === AddressStatus.quarantined) return Reason.quarantined;
  if (status === AddressStatus.denylisted) return Reason.denylisted;
  return null;
}
