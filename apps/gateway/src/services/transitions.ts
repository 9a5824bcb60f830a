import {
  apply,
  excludedState,
  type FailureType,
  initialState,
  type MessageEffect,
  type MessageEvent,
  type MessageState,
  MessageStatus,
  type ReasonCode,
} from "@sendgate/core";
import {
  type CounterDelta,
  type EventRow,
  execute,
  type Hold,
  plans,
  type TransitionRow,
  type Tx,
} from "@sendgate/db";

/**
 * The one path of every status change (DOMAIN §3): a message's stored row is turned back into
 * the core's `MessageState`, the core's `apply` decides, and what it decided is stored — status
 * columns, `machine`, an event, the delivery's counters — in the caller's transaction, a batch at a
 * time. Nothing else writes a message's status, except `plans.cancelInitial`, which writes the
 * state the core computed once for every message still in the initial state.
 */
export interface StoredMessage {
  id: number;
  deliveryId: string;
  status: string;
  failureType: string | null;
  reason: number | null;
  machine: unknown;
}

/** The core state a row stands for: its `machine`, or the state intake wrote it in. */
export function stateOf(row: StoredMessage): MessageState {
  if (row.machine) return row.machine as MessageState;
  if (row.status === MessageStatus.ignored && row.failureType && row.reason !== null) {
    return excludedState({
      type: row.failureType as FailureType,
      reason: row.reason as ReasonCode,
    });
  }
  return initialState();
}

/** The counters' reason key: reasons count for failed and ignored messages only. */
export const counterReason = (status: string, reason: number | null) =>
  (status === MessageStatus.failed || status === MessageStatus.ignored) && reason !== null
    ? reason
    : -1;

/** The columns a state is stored in. */
export function columnsOf(state: MessageState) {
  const failure = state.failure;
  return {
    status: state.status,
    failureType: failure ? failure.type : null,
    reason: failure ? failure.reason : null,
    attempt: state.attempt,
    nextAttemptAt: state.status === MessageStatus.pending && state.retry &&
        state.retry.attempt === state.attempt
      ? new Date(state.retry.at).toISOString()
      : null,
  };
}

export interface Decision {
  row: StoredMessage;
  event: MessageEvent;
  state: MessageState;
  effects: MessageEffect[];
  changed: boolean;
}

/**
 * Whether two JSON-like values are equal by value: object keys in any order, an undefined member
 * the same as a missing one (as JSON.stringify drops it). A state read back from jsonb has its
 * keys in another order than the one the core built. Compared walking both (no strings built:
 * this runs for every decision, and two canonical JSON texts per decision were an eighth of the
 * dispatcher's CPU under SMS load).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    defined++;
    if (!sameValue(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) defined--;
  return defined === 0;
}

/** The core's decision for one event of one message (nothing stored yet). */
export function decide(row: StoredMessage, event: MessageEvent): Decision {
  const before = stateOf(row);
  const { state, effects } = apply(before, event);
  // A duplicate or late report may leave the state as it was: nothing to store then. Compared
  // by value with sorted keys: a state read back from jsonb has its keys in another order.
  const changed = state !== before && !sameValue(state, before);
  return { row, event, state, effects, changed };
}

export interface Persisted {
  /** Event text (the qualified reply, the error) and detail, per message id. */
  text?: (d: Decision) => string | null;
  detail?: (d: Decision) => unknown;
  /** Whether the message stays claimed by its dispatcher after this decision. */
  keepClaim?: (d: Decision) => boolean;
  /** A claim's holder and lease, written with the state of the messages that stay claimed. */
  hold?: Hold;
  provider?: (d: Decision) => { provider: string; id: string } | null;
  /** Whether an unchanged decision still gets its event (a progress report worth showing). */
  logUnchanged?: (d: Decision) => boolean;
}

/**
 * Stores decisions: the changed messages and one event per changed message, in one statement.
 * Unchanged decisions (a duplicate report) store nothing. Answers the counters' deltas, for the
 * caller to write last in its transaction (`writeCounters`): the counters are the rows every
 * transaction of a delivery touches, so they are held as briefly as possible.
 */
export async function persist(
  tx: Tx,
  decisions: readonly Decision[],
  at: number,
  options: Persisted = {},
): Promise<CounterDelta[]> {
  const changed = decisions.filter((d) => d.changed);
  const logged = options.logUnchanged
    ? decisions.filter((d) => !d.changed && options.logUnchanged!(d))
    : [];
  if (changed.length === 0 && logged.length === 0) return [];
  const stamp = new Date(at).toISOString();
  const rows: TransitionRow[] = [];
  const events: EventRow[] = [];
  const deltas = new Map<string, CounterDelta>();
  const bump = (deliveryId: string, status: string, reason: number, delta: number) => {
    const key = `${deliveryId}|${status}|${reason}`;
    const d = deltas.get(key) ?? { deliveryId, status, reason, delta: 0 };
    d.delta += delta;
    deltas.set(key, d);
  };
  const eventOf = (d: Decision): EventRow => {
    const columns = columnsOf(d.state);
    return {
      messageId: d.row.id,
      event: d.event.type,
      status: columns.status,
      failureType: columns.failureType,
      reason: columns.reason,
      text: options.text?.(d) ?? null,
      detail: options.detail?.(d) ?? null,
    };
  };
  for (const d of changed) {
    const columns = columnsOf(d.state);
    const provider = options.provider?.(d) ?? null;
    rows.push({
      id: d.row.id,
      ...columns,
      machine: d.state,
      keepClaim: options.keepClaim?.(d) ?? false,
      providerMessageId: provider?.id ?? null,
      provider: provider?.provider ?? null,
    });
    events.push(eventOf(d));
    if (d.row.status !== columns.status || d.row.reason !== columns.reason) {
      bump(d.row.deliveryId, d.row.status, counterReason(d.row.status, d.row.reason), -1);
      bump(d.row.deliveryId, columns.status, counterReason(columns.status, columns.reason), 1);
    }
  }
  for (const d of logged) events.push(eventOf(d));
  await execute(tx, plans.storeTransitions(rows, events, stamp, options.hold ?? null));
  return [...deltas.values()].filter((d) => d.delta !== 0);
}

/** Writes counter deltas (the last statement of a transaction that changed messages). */
export async function writeCounters(tx: Tx, deltas: readonly CounterDelta[]): Promise<void> {
  const merged = new Map<string, CounterDelta>();
  for (const d of deltas) {
    const key = `${d.deliveryId}|${d.status}|${d.reason}`;
    const m = merged.get(key) ?? { ...d, delta: 0 };
    m.delta += d.delta;
    merged.set(key, m);
  }
  const nonZero = [...merged.values()].filter((d) => d.delta !== 0);
  if (nonZero.length) await execute(tx, plans.bumpCounters(nonZero));
}
