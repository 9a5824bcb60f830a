import {
  type AddressState,
  type AddressStatus,
  canonicalSmsId,
  type Channel,
  type CompiledRules,
  decideAddress,
  defaultQuarantineConfig,
  defaultRetryPolicy,
  type DomainFlowState,
  type DomainRule,
  effectiveFailure,
  type EntryStatus,
  type Failure,
  FailureType,
  type FailureVerdict,
  type MessageEvent,
  newDomainFlowState,
  nextRetryAt,
  type Qualification,
  type QualificationEntry,
  type QualificationInput,
  qualify,
  type QuarantineConfig,
  Reason,
  type ReasonCode,
  recordDomainResult,
  recordOccurrence,
  resolveDomainRule,
  type RetryPolicy,
} from "@sendgate/core";
import type { SendOutcome } from "@sendgate/channels";
import {
  type AddressRow,
  type DomainFlowRow,
  type EntryRow,
  execute,
  type Executor,
  plans,
  type Tx,
} from "@sendgate/db";
import { decide, type Decision, persist, stateOf, writeCounters } from "../services/transitions.ts";
import type { ClaimedMessage, RunningDelivery } from "./types.ts";

/**
 * Applies a batch's outcomes through the core, in one transaction: for each message, the
 * qualification of what the channel saw (`qualify`, then the table's word on the text,
 * `effectiveFailure`), the qualification entry (`recordOccurrence`), the next retry
 * (`nextRetryAt`, per the delivery's policy and validity), the message's transition (`apply`), the
 * quarantine of the address (`decideAddress`), the domain's error statistics
 * (`recordDomainResult`, which may suspend it), and the delivery's end. Every decision is the
 * core's; this module reads what it needs in a few locking queries, calls the core, and writes what
 * it decided in one statement per table.
 */
export interface OutcomeContext {
  rules: CompiledRules;
  domainRules: readonly DomainRule[];
  quarantine?: QuarantineConfig;
  now: number;
}

/**
 * An asynchronous report of a message's fate: an SMS delivery receipt (by SMPP or HTTP callback),
 * qualified by the core like a reply and applied as a `receipt` event or a failure of origin
 * `receipt`; or one failed recipient of an email bounce (a DSN or a plain-text report), applied
 * as a failure of origin `bounce` (a second bounce for the same attempt changes nothing).
 */
export interface ReportOutcome {
  kind: "report";
  input: Extract<QualificationInput, { kind: "receipt" } | { kind: "dsn" }>;
}
export type AnyOutcome = SendOutcome | ReportOutcome;

const ms = (v: string | Date | null) => (v === null ? null : new Date(v).getTime());
const iso = (v: number | null) => (v === null ? null : new Date(v).toISOString());

/**
 * Reports split into rounds holding each message once (the first round every message's first
 * report, and so on): a batch applies its rounds in turn, each on the state the previous left.
 */
export function roundsByMessage<T extends { message: { id: number } }>(items: readonly T[]): T[][] {
  const rounds: T[][] = [];
  for (const x of items) {
    const round = rounds.find((r) => !r.some((y) => y.message.id === x.message.id));
    if (round) round.push(x);
    else rounds.push([x]);
  }
  return rounds;
}

/** What one outcome means for its message, before anything is written. */
interface Judged {
  message: ClaimedMessage;
  delivery: RunningDelivery;
  /** The core event for the message. */
  event: MessageEvent;
  /** The qualified text (failures), for the event and the tables. */
  text: string | null;
  normalized: string | null;
  verdict: FailureVerdict | null;
  failure: Failure | null;
  ignoreText: boolean;
  retryKind: "scheduled" | "backoff" | null;
  error: boolean;
}

export function retryPolicyOf(delivery: RunningDelivery): RetryPolicy {
  const steps = (delivery.retryPolicy as { steps?: { count: number; intervalMs: number }[] } | null)
    ?.steps;
  return steps ? { steps, backoff: defaultRetryPolicy.backoff } : defaultRetryPolicy;
}

/** A failure the gateway decided itself, not qualified from a reply. */
function ownFailure(outcome: Extract<SendOutcome, { kind: "invalid" }>, channel: Channel) {
  if (outcome.problem === "personalization") {
    return { failure: { type: FailureType.ignored, reason: Reason.personalization }, input: null };
  }
  // A payload too big for the channel: what the push service would answer with a 413.
  const input: QualificationInput = channel === "push"
    ? { channel: "push", kind: "http", status: 413, body: outcome.detail }
    : { channel, kind: "network", code: "ECONTENT", text: outcome.detail };
  return { failure: null, input };
}

function judge(
  message: ClaimedMessage,
  delivery: RunningDelivery,
  outcome: AnyOutcome,
  qualified: Qualification | null,
  ctx: OutcomeContext,
  entries: Map<string, QualificationEntry>,
  sentAttempt: number | undefined,
): Judged {
  // A send's outcome belongs to the attempt that was sent; a report to the message's latest.
  // (A bounce of attempt 1 may be applied while attempt 1's batch is still out, and schedule
  // attempt 2: the batch's "sent" is then attempt 1's, not attempt 2's, which has not gone yet.)
  const attempt = outcome.kind === "report" || sentAttempt === undefined
    ? stateOf(message).attempt
    : sentAttempt;
  const base = {
    message,
    delivery,
    text: null,
    normalized: null,
    verdict: null,
    failure: null,
    ignoreText: false,
    retryKind: null,
    error: false,
  };
  if (outcome.kind === "accepted") {
    // An SMS provider's acceptance is not the handset's: the receipt says more later.
    return {
      ...base,
      event: { type: delivery.channel === "sms" ? "providerAccepted" : "sent", attempt },
    };
  }
  let input: QualificationInput | null;
  let failure: Failure | null = null;
  if (outcome.kind === "report" && outcome.input.kind === "receipt") {
    const q = qualified ?? qualify(ctx.rules, outcome.input);
    const stat = outcome.input.stat;
    if (q.verdict.outcome === "success" || q.verdict.outcome === "intermediate") {
      return {
        ...base,
        text: q.text,
        event: { type: "receipt", attempt, delivered: q.verdict.outcome === "success", stat },
      };
    }
    input = outcome.input;
  } else if (outcome.kind === "invalid") {
    ({ input, failure } = ownFailure(outcome, delivery.channel));
  } else {
    input = outcome.input;
  }
  let verdict: FailureVerdict | null = null;
  let text: string | null = outcome.kind === "invalid" ? outcome.detail : null;
  let normalized: string | null = null;
  let ignoreText = false;
  if (input) {
    const q = qualified ?? qualify(ctx.rules, input);
    text = q.text;
    normalized = q.normalized;
    if (q.verdict.outcome === "success") return { ...base, event: { type: "sent", attempt } };
    // A progress answer where a verdict was due (an SMTP 3xx): nobody can say yet; to qualify.
    verdict = q.verdict.outcome === "failure" ? q.verdict : {
      outcome: "failure",
      type: FailureType.undefined,
      reason: Reason.undefined,
      retry: "schedule",
      ruleId: null,
      source: "none",
      toQualify: true,
    };
    const key = `${delivery.channel}\u0000${q.normalized}`;
    const entry = recordOccurrence(
      entries.get(key) ?? null,
      delivery.channel,
      { ...q, verdict },
      ctx.now,
    );
    entries.set(key, entry);
    const effective = effectiveFailure(entry, verdict);
    failure = { type: effective.type, reason: effective.reason };
    ignoreText = effective.ignoreText;
  }
  const decision = verdict
    ? nextRetryAt(retryPolicyOf(delivery), {
      type: failure!.type,
      mode: verdict.retry,
      ...(verdict.retryAfterMs !== undefined ? { retryAfterMs: verdict.retryAfterMs } : {}),
      scheduledUsed: message.scheduledRetries,
      backoffsInARow: message.backoffsInARow,
      now: ctx.now,
      validUntil: ms(delivery.validUntil)!,
    })
    : null; // the gateway's own failures are final
  return {
    ...base,
    event: {
      type: "failure",
      origin: outcome.kind !== "report"
        ? "sync"
        : outcome.input.kind === "receipt"
        ? "receipt"
        : "bounce",
      attempt,
      failure: failure!,
      retryAt: decision?.at ?? null,
      ...(outcome.kind === "report" && outcome.input.kind === "receipt"
        ? { stat: outcome.input.stat }
        : {}),
    },
    text,
    normalized,
    verdict,
    failure,
    ignoreText,
    retryKind: decision?.kind ?? null,
    error: true,
  };
}

const addressState = (r: AddressRow): AddressState => ({
  status: r.status as AddressStatus,
  errorCount: r.errorCount,
  lastType: r.lastType as FailureType | null,
  lastReason: r.lastReason as ReasonCode | null,
  lastText: r.lastText,
  firstErrorAt: ms(r.firstErrorAt),
  lastErrorAt: ms(r.lastErrorAt),
  statusSince: ms(r.statusSince)!,
  comment: r.comment,
});

export interface AppliedBatch {
  /** Deliveries of the batch, to be finished when nothing of theirs waits (`closeDeliveries`). */
  touched: string[];
  /** Deliveries paused by a verdict (our own configuration at fault). */
  paused: string[];
  /** Domains this batch suspended. */
  suspended: string[];
  decisions: Decision[];
}

/** Applies one batch's outcomes (one per claimed message, same order). */
export async function applyOutcomes(
  tx: Tx,
  batch: readonly ClaimedMessage[],
  sent: readonly SendOutcome[],
  deliveries: ReadonlyMap<string, RunningDelivery>,
  ctx: OutcomeContext,
): Promise<AppliedBatch> {
  const channel = deliveries.get(batch[0]!.deliveryId)!.channel;
  // Decided on each message's state now, not at claim time: a cancel (or a late report) may have
  // changed it while the batch was out.
  const fresh = new Map(
    (await execute<ClaimedMessage>(tx, plans.lockMessages(batch.map((m) => m.id))))
      .map((m) => [m.id, m]),
  );
  const kept = batch.flatMap((m, i) => (fresh.has(m.id) ? [{ m: fresh.get(m.id)!, i }] : []));
  return await applyToLocked(
    tx,
    channel,
    kept.map((k) => k.m),
    kept.map((k) => sent[k.i]!),
    deliveries,
    ctx,
    kept.map((k) => stateOf(batch[k.i]!).attempt),
  );
}

/**
 * Applies outcomes to messages the caller has locked in this transaction (a batch just sent, or
 * the messages a burst of receipts names), all of one channel.
 */
export async function applyToLocked(
  tx: Tx,
  channel: Channel,
  claimed: readonly ClaimedMessage[],
  outcomes: readonly AnyOutcome[],
  deliveries: ReadonlyMap<string, RunningDelivery>,
  ctx: OutcomeContext,
  /** Per message, the attempt a send's outcome is about (the one claimed and sent). */
  sentAttempts?: readonly number[],
): Promise<AppliedBatch> {
  const at = new Date(ctx.now).toISOString();

  // 1. Qualify (pure), the qualification entries of the texts seen read first, locked.
  const preliminary = outcomes.map((o) =>
    o.kind === "refused" || o.kind === "transport" || o.kind === "report"
      ? qualify(ctx.rules, o.input)
      : null
  );
  const keys = [
    ...new Set(
      preliminary.flatMap((q) => (q && q.verdict.outcome !== "success" ? [q.normalized] : [])),
    ),
  ];
  const entries = new Map<string, QualificationEntry>();
  const existing = keys.length
    ? await execute<EntryRow & { id: number }>(
      tx,
      plans.lockEntries(keys.map((normalized) => ({ channel, normalized }))),
    )
    : [];
  for (const e of existing) {
    entries.set(`${e.channel}\u0000${e.normalizedText}`, {
      channel: e.channel as Channel,
      normalizedText: e.normalizedText,
      firstText: e.firstText,
      type: e.type as FailureType,
      reason: e.reason as ReasonCode,
      status: e.status as EntryStatus,
      ruleId: e.ruleId,
      count: e.count,
      firstSeenAt: ms(e.firstSeenAt)!,
      lastSeenAt: ms(e.lastSeenAt)!,
    });
  }
  const before = new Map([...entries].map(([k, v]) => [k, JSON.stringify(v)]));
  const judged = claimed.map((m, i) =>
    judge(
      m,
      deliveries.get(m.deliveryId)!,
      outcomes[i]!,
      preliminary[i]!,
      ctx,
      entries,
      sentAttempts?.[i],
    )
  );

  // 2. Domains (email): error statistics, suspensions. Before anything else is written: the
  // claims lock these rows too, before the counters, and one order everywhere means waits, not
  // deadlocks.
  // A bounce days later is no result of the domain's sending now: its send was counted then.
  const sendResults = judged.filter((_, i) => outcomes[i]!.kind !== "report");
  const suspended = channel === "email" && sendResults.length
    ? await applyDomainResults(tx, sendResults, ctx, at)
    : [];

  // 3. The messages' transitions.
  const decisions = judged.map((j) => decide(j.message, j.event));
  const byId = new Map(judged.map((j) => [j.message.id, j]));
  const outcomeOf = new Map(claimed.map((m, i) => [m.id, outcomes[i]!]));
  const deltas = await persist(tx, decisions, ctx.now, {
    text: (d) => byId.get(d.row.id)!.text,
    // A progress receipt (ENROUTE …) changes nothing, but its event is kept.
    logUnchanged: (d) => d.event.type === "receipt" && !d.event.delivered,
    provider: (d) => {
      const o = outcomeOf.get(d.row.id);
      return o?.kind === "accepted" && o.provider && o.remoteId
        ? { provider: o.provider, id: canonicalSmsId(o.remoteId) }
        : null;
    },
    detail: (d) => {
      const j = byId.get(d.row.id)!;
      const o = outcomeOf.get(d.row.id);
      const carrier = o?.kind === "accepted" && o.provider
        ? { provider: o.provider, providerMessageId: o.remoteId ?? null }
        : o?.kind === "report" && o.input.kind === "receipt"
        ? { provider: o.input.provider ?? null }
        : null;
      return j.verdict
        ? { ruleId: j.verdict.ruleId, source: j.verdict.source, retry: j.retryKind, ...carrier }
        : carrier;
    },
  });
  const counters = judged.filter((j) => j.error).map((j) => ({
    id: j.message.id,
    scheduled: j.message.scheduledRetries + (j.retryKind === "scheduled" ? 1 : 0),
    backoffs: j.retryKind === "backoff" ? j.message.backoffsInARow + 1 : 0,
  }));
  if (counters.length) await execute(tx, plans.writeRetryCounters(counters));

  // 3. The qualification table.
  const changedEntries = [...entries].filter(([k, v]) => before.get(k) !== JSON.stringify(v));
  if (changedEntries.length) {
    await execute(
      tx,
      plans.writeEntries(changedEntries.map(([, e]) => ({
        channel: e.channel,
        normalizedText: e.normalizedText,
        firstText: e.firstText,
        type: e.type,
        reason: e.reason,
        status: e.status,
        ruleId: e.ruleId,
        count: e.count,
        firstSeenAt: iso(e.firstSeenAt)!,
        lastSeenAt: iso(e.lastSeenAt)!,
      }))),
    );
  }

  // 4. The quarantine (the platform's scope): failures of the address, deliveries that reset it.
  await applyQuarantine(tx, channel, judged, decisions, ctx, at);

  // The counters last: every transaction of these deliveries waits on them.
  await writeCounters(tx, deltas);
  const paused = [
    ...new Set(judged.filter((j) => j.verdict?.pauseDelivery).map((j) => j.delivery.id)),
  ];
  const touched = [...new Set(claimed.map((m) => m.deliveryId))];
  return { touched, paused, suspended, decisions };
}

/**
 * 6. The deliveries, after the batch's transaction: paused for our own configuration (push
 * 401/403), finished when nothing waits. Outside it, so that the batch never holds counters while
 * it waits for a delivery's row, which a part being appended holds while it waits for counters.
 */
export async function closeDeliveries(
  executor: Executor,
  batch: Pick<AppliedBatch, "touched" | "paused">,
  now: number,
): Promise<string[]> {
  const at = new Date(now).toISOString();
  for (const id of batch.paused) {
    await execute(
      executor,
      plans.pauseDelivery(id, "the push service refused our VAPID credentials (401/403)", at),
    );
  }
  return (await execute<{ id: string }>(executor, plans.finishDone(batch.touched, at))).map((r) =>
    r.id
  );
}

async function applyQuarantine(
  tx: Tx,
  channel: Channel,
  judged: readonly Judged[],
  decisions: readonly Decision[],
  ctx: OutcomeContext,
  at: string,
): Promise<void> {
  const events = new Map<string, { j: Judged; kind: "failure" | "delivered" }[]>();
  decisions.forEach((d, i) => {
    const j = judged[i]!;
    const address = j.message.address;
    if (!address) return;
    const failed = d.effects.some((e) => e.kind === "addressFailure");
    // Reached its recipient: a mail server's or push service's acceptance, or a handset's receipt.
    const delivered = j.event.type === "sent" || (j.event.type === "receipt" && j.event.delivered);
    if (!failed && !delivered) return;
    const list = events.get(address) ?? [];
    list.push({ j, kind: failed ? "failure" : "delivered" });
    events.set(address, list);
  });
  if (events.size === 0) return;
  const rows = await execute<AddressRow>(tx, plans.lockAddresses(channel, [...events.keys()]));
  const current = new Map(rows.map((r) => [r.address, r]));
  const writes: AddressRow[] = [];
  const config = ctx.quarantine ?? defaultQuarantineConfig;
  for (const [address, list] of events) {
    const row = current.get(address);
    let state: AddressState | null = row ? addressState(row) : null;
    let cause: { text: string | null; ruleId: string | null } | null = null;
    for (const { j, kind } of list) {
      const next = kind === "delivered"
        ? decideAddress(state, { kind: "delivered", at: ctx.now }, config)
        : decideAddress(state, {
          kind: "failure",
          failure: j.failure!,
          at: ctx.now,
          ...(j.text ? { text: j.text } : {}),
          ...(j.ignoreText ? { ignoreText: true } : {}),
        }, config);
      // The text and rule that put the address where it is: what a requalification releases.
      if (kind === "failure" && next && next !== state && next.errorCount !== state?.errorCount) {
        cause = { text: j.normalized, ruleId: j.verdict?.ruleId ?? null };
      }
      state = next;
    }
    if (!state || (row && JSON.stringify(state) === JSON.stringify(addressState(row)))) continue;
    writes.push({
      address,
      status: state.status,
      errorCount: state.errorCount,
      lastType: state.lastType,
      lastReason: state.lastReason,
      lastText: state.lastText,
      firstErrorAt: iso(state.firstErrorAt),
      lastErrorAt: iso(state.lastErrorAt),
      statusSince: iso(state.statusSince)!,
      comment: state.comment,
      causeText: cause?.text ?? null,
      causeRuleId: cause?.ruleId ?? null,
    });
  }
  if (writes.length) await execute(tx, plans.writeAddresses(channel, writes, at));
}

async function applyDomainResults(
  tx: Tx,
  judged: readonly Judged[],
  ctx: OutcomeContext,
  at: string,
): Promise<string[]> {
  const byDomain = new Map<string, Judged[]>();
  for (const j of judged) {
    if (!j.message.domain) continue;
    const list = byDomain.get(j.message.domain) ?? [];
    list.push(j);
    byDomain.set(j.message.domain, list);
  }
  if (byDomain.size === 0) return [];
  const rows = await execute<DomainFlowRow>(tx, plans.lockDomainFlow([...byDomain.keys()]));
  const current = new Map(rows.map((r) => [r.domain, r]));
  const writes: DomainFlowRow[] = [];
  const suspended: string[] = [];
  for (const [domain, list] of byDomain) {
    const rule = resolveDomainRule(ctx.domainRules, domain);
    if (!rule.suspension) continue;
    const row = current.get(domain);
    let state: DomainFlowState = row ? flowState(row) : newDomainFlowState(ctx.now);
    let suspension: { rate: number; results: number } | null = null;
    for (const j of list) {
      const before = state;
      const result = recordDomainResult(state, rule, ctx.now, j.error);
      state = result.state;
      if (result.suspendedUntil !== undefined) {
        const results = before.results + 1;
        suspension = { rate: (before.errors + (j.error ? 1 : 0)) / results, results };
      }
    }
    if (suspension) suspended.push(domain);
    writes.push({
      ...flowRow(domain, state),
      suspendedRate: suspension?.rate ?? null,
      suspendedResults: suspension?.results ?? null,
    });
  }
  if (writes.length) await execute(tx, plans.writeDomainFlow(writes, at));
  return suspended;
}

export const flowState = (r: DomainFlowRow): DomainFlowState => ({
  windowStart: ms(r.windowStart)!,
  sentInWindow: r.sentInWindow,
  statsStart: ms(r.statsStart)!,
  results: r.results,
  errors: r.errors,
  suspendedUntil: ms(r.suspendedUntil),
});

export const flowRow = (domain: string, s: DomainFlowState) => ({
  domain,
  windowStart: iso(s.windowStart)!,
  sentInWindow: s.sentInWindow,
  statsStart: iso(s.statsStart)!,
  results: s.results,
  errors: s.errors,
  suspendedUntil: iso(s.suspendedUntil),
});
