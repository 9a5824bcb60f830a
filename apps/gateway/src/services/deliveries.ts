import { randomInt } from "node:crypto";
import { Buffer } from "node:buffer";
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import {
  apply,
  type Channel,
  emailDomain,
  initialState,
  MessageStatus,
  normalizeRecipients,
  prepareRecipients,
  type ReasonCode,
  reasons,
  type RecipientInput,
  type SendingWindow,
  smsTextInfo,
} from "@sendgate/core";
import { checkEndpointResolved } from "@sendgate/channels";
import {
  type CounterDelta,
  deliveries,
  execute,
  messageEvents,
  messages,
  type NewMessageRow,
  plans,
  type Tx,
} from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { ServiceError } from "./errors.ts";
import { integerId, isUuid } from "../ids.ts";
import { type Idempotency, idempotent, type IdempotentResult } from "./idempotency.ts";
import {
  counterReason,
  decide,
  persist,
  type StoredMessage,
  writeCounters,
} from "./transitions.ts";
import { waitingReasons } from "./waiting.ts";
import type { Principal } from "./keys.ts";

type DeliveryRow = typeof deliveries.$inferSelect;

/** What creating a delivery takes (validated by the transport before it gets here). */
export interface DeliveryInput {
  channel: Channel;
  content: Record<string, unknown>;
  externalRef?: string | undefined;
  validitySeconds: number;
  retryPolicy?: { steps: { count: number; intervalSeconds: number }[] } | undefined;
  affinity?: string | undefined;
  scheduledAt?: string | undefined;
  controlGroup?: { ratio?: number | undefined; externalIds?: string[] | undefined } | undefined;
  maxTargetSize?: number | undefined;
  priority?: number | undefined;
  sendingWindow?: SendingWindow | undefined;
}

/** A push subscription as browsers give it (`PushSubscription.toJSON()`). */
export interface PushSubscriptionInput {
  endpoint: string;
  expirationTime?: number | null | undefined;
  keys?: { p256dh: string; auth: string } | undefined;
}

/** One recipient of a part. */
export interface Recipient {
  externalId: string;
  address?: string | PushSubscriptionInput | null | undefined;
  fields?: Record<string, string | number | boolean | null> | undefined;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    channel: row.channel as Channel,
    state: row.state as "draft" | "running" | "cancelled" | "finished",
    externalRef: row.externalRef,
    content: row.content as Record<string, unknown>,
    validUntil: row.validUntil.toISOString(),
    retryPolicy: row.retryPolicy ?? null,
    affinity: row.affinity,
    scheduledAt: iso(row.scheduledAt),
    controlGroup: row.controlGroup ?? null,
    maxTargetSize: row.maxTargetSize,
    priority: row.priority,
    sendingWindow: row.sendingWindow ?? null,
    paused: row.pausedAt
      ? { since: row.pausedAt.toISOString(), reason: row.pauseReason ?? "" }
      : null,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    cancelledAt: iso(row.cancelledAt),
    finishedAt: iso(row.finishedAt),
    ...(row.channel === "sms"
      ? { sms: smsTextInfo(String((row.content as { text?: string }).text ?? "")) }
      : {}),
  };
}

export type DeliveryView = ReturnType<typeof deliveryView>;

/**
 * Creates a draft delivery. A `scheduledAt` at or after the end of the validity period could only
 * fail every message: it is refused.
 */
export async function createDelivery(
  deps: AppDeps,
  who: Principal,
  input: DeliveryInput,
  idempotency: Idempotency | null = null,
): Promise<IdempotentResult<DeliveryView>> {
  const now = deps.now();
  const validUntil = now + input.validitySeconds * 1000;
  if (input.scheduledAt && Date.parse(input.scheduledAt) >= validUntil) {
    throw new ServiceError("invalid", "the delivery would be scheduled after its validity ends", [{
      path: "scheduledAt",
      message: `must be before the end of the validity period (${
        new Date(validUntil).toISOString()
      }); raise validitySeconds or schedule earlier`,
    }]);
  }
  const retryPolicy = input.retryPolicy
    ? {
      steps: input.retryPolicy.steps.map((s) => ({
        count: s.count,
        intervalMs: s.intervalSeconds * 1000,
      })),
    }
    : null;
  return await idempotent(deps.database, who.instanceId, idempotency, async (tx) => {
    const [row] = await tx.insert(deliveries).values({
      instanceId: who.instanceId,
      channel: input.channel,
      externalRef: input.externalRef ?? null,
      content: input.content,
      validUntil: new Date(validUntil),
      retryPolicy,
      affinity: input.affinity ?? null,
      scheduledAt: input.scheduledAt ? new Date(input.scheduledAt) : null,
      controlGroup: input.controlGroup ?? null,
      maxTargetSize: input.maxTargetSize ?? null,
      priority: input.priority ?? 0,
      sendingWindow: input.sendingWindow ?? null,
      createdAt: new Date(now),
    }).returning();
    return { status: 201, body: deliveryView(row!) };
  });
}

/** A delivery of the caller's instance; another instance's id answers 404 like an unknown one. */
async function findDelivery(
  db: Tx | AppDeps["database"]["db"],
  who: Principal,
  id: string,
  lock = false,
) {
  if (!isUuid(id)) throw new ServiceError("notFound", `no delivery ${id}`);
  const query = db.select().from(deliveries).where(
    and(eq(deliveries.id, id), eq(deliveries.instanceId, who.instanceId)),
  );
  const [row] = lock ? await query.for("update") : await query;
  if (!row) throw new ServiceError("notFound", `no delivery ${id}`);
  return row;
}

/** A delivery's counters, kept by the transactions that change its messages (no count(*)). */
export async function deliveryCounts(deps: AppDeps, id: string) {
  const rows = await execute<{ status: string; reason: number; count: number }>(
    deps.database,
    plans.deliveryCounters(id),
  );
  const byStatus: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    total += r.count;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + r.count;
    if (r.reason >= 0) byReason[r.reason] = (byReason[r.reason] ?? 0) + r.count;
  }
  return { total, byStatus, byReason };
}

export async function getDelivery(deps: AppDeps, who: Principal, id: string) {
  const row = await findDelivery(deps.database.db, who, id);
  const counts = await deliveryCounts(deps, id);
  return {
    ...deliveryView(row),
    counts,
    waiting: await waitingReasons(deps, row, counts.byStatus.pending ?? 0),
  };
}

export async function listDeliveries(
  deps: AppDeps,
  who: Principal,
  q: {
    state?: string | undefined;
    channel?: string | undefined;
    externalRef?: string | undefined;
    after: { t: string; id: string } | null;
    limit: number;
  },
) {
  const filters = [eq(deliveries.instanceId, who.instanceId)];
  if (q.state) filters.push(eq(deliveries.state, q.state));
  if (q.channel) filters.push(eq(deliveries.channel, q.channel));
  if (q.externalRef) filters.push(eq(deliveries.externalRef, q.externalRef));
  if (q.after) {
    const t = new Date(q.after.t);
    filters.push(
      or(
        lt(deliveries.createdAt, t),
        and(eq(deliveries.createdAt, t), lt(deliveries.id, q.after.id)),
      )!,
    );
  }
  const rows = await deps.database.db.select().from(deliveries).where(and(...filters))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id)).limit(q.limit + 1);
  const page = rows.slice(0, q.limit).map(deliveryView);
  const last = rows.length > q.limit ? page.at(-1)! : null;
  return { items: page, next: last ? { t: last.createdAt, id: last.id } : null };
}

export async function startDelivery(deps: AppDeps, who: Principal, id: string) {
  return await deps.database.db.transaction(async (tx) => {
    const row = await findDelivery(tx, who, id, true);
    if (row.state === "running") return deliveryView(row);
    if (row.state !== "draft") throw new ServiceError("conflict", `delivery ${id} is ${row.state}`);
    const [updated] = await tx.update(deliveries).set({
      state: "running",
      startedAt: new Date(deps.now()),
    })
      .where(eq(deliveries.id, id)).returning();
    return deliveryView(updated!);
  });
}

/**
 * Lifts a pause of ours (push 401/403: the VAPID configuration), once the operator fixed its
 * cause: the delivery's messages are claimed again. Nothing to do when it is not paused.
 */
export async function resumeDelivery(deps: AppDeps, who: Principal, id: string) {
  return await deps.database.db.transaction(async (tx) => {
    const row = await findDelivery(tx, who, id, true);
    if (row.state !== "running") {
      throw new ServiceError(
        "conflict",
        `delivery ${id} is ${row.state}: only a running one resumes`,
      );
    }
    if (!row.pausedAt) return deliveryView(row);
    const [updated] = await tx.update(deliveries).set({ pausedAt: null, pauseReason: null })
      .where(eq(deliveries.id, id)).returning();
    return deliveryView(updated!);
  });
}

/** What the core decides for a message still in its initial state when its delivery is cancelled. */
const cancelledInitial = apply(initialState(), { type: "cancel" }).state;

/**
 * Cancels a delivery: every message the core says a cancel changes gets that state, with an event.
 * Messages still in their initial state (most of them) are cancelled by one statement writing the
 * state the core computed once (`cancelledInitial`); the others (waiting for a retry, or claimed by
 * a sender) are decided one by one by `apply`. A claimed message shows as cancelled, but its
 * sender finishes the attempt and evidence that it went out wins (DOMAIN §3).
 */
export async function cancelDelivery(deps: AppDeps, who: Principal, id: string) {
  return await deps.database.db.transaction(async (tx) => {
    const row = await findDelivery(tx, who, id, true);
    if (row.state === "cancelled") return { ...deliveryView(row), cancelledMessages: 0 };
    if (row.state === "finished") throw new ServiceError("conflict", `delivery ${id} is finished`);
    const at = deps.now();
    const [updated] = await tx.update(deliveries).set({
      state: "cancelled",
      cancelledAt: new Date(at),
    }).where(eq(deliveries.id, id)).returning();
    const [bulk] = await execute<{ n: number }>(
      tx,
      plans.cancelInitial(
        id,
        { status: cancelledInitial.status, machine: cancelledInitial },
        new Date(at).toISOString(),
      ),
    );
    const bulkCount = bulk?.n ?? 0;
    const others = await execute<StoredMessage>(tx, plans.cancellable(id));
    const decisions = others.map((m) => decide(m, { type: "cancel" }));
    // A claimed message stays with its sender, which finishes the attempt.
    const deltas = await persist(tx, decisions, at, {
      keepClaim: (d) => d.row.status === MessageStatus.prepared,
    });
    await writeCounters(tx, [
      ...deltas,
      { deliveryId: id, status: MessageStatus.pending, reason: -1, delta: -bulkCount },
      { deliveryId: id, status: cancelledInitial.status, reason: -1, delta: bulkCount },
    ]);
    const cancelled = bulkCount +
      decisions.filter((d) => d.state.status === MessageStatus.cancelled).length;
    return { ...deliveryView(updated!), cancelledMessages: cancelled };
  });
}

const b64urlLength = (
  s: string,
) => (/^[A-Za-z0-9_-]+={0,2}$/u.test(s) ? Buffer.from(s, "base64url").length : -1);

/** Which of two quarantine statuses excludes more (quarantined and denylisted both exclude). */
const exclusionRank = (status: string) =>
  status === "denylisted" ? 2 : status === "quarantined" ? 1 : 0;

/** Push subscriptions carry keys besides the endpoint: checked here, kept in address_data. */
function pushKeysError(r: Recipient): string | null {
  if (typeof r.address !== "object" || r.address === null || !r.address.keys) {
    return "a push subscription needs its keys: give { endpoint, keys: { p256dh, auth } }";
  }
  if (b64urlLength(r.address.keys.p256dh) !== 65) {
    return "keys.p256dh must be a base64url P-256 public key (65 bytes)";
  }
  if (b64urlLength(r.address.keys.auth) !== 16) {
    return "keys.auth must be a base64url 16-byte secret";
  }
  return null;
}

/** A recipient refused before preparation, by its index in the part. */
export interface RejectedRecipient {
  index: number;
  externalId: string;
  /** The recipient's field at fault: `address`, `externalId`, `fields.<name>` … */
  field: string;
  address: unknown;
  error: string;
}

export interface PartAnswer {
  deliveryId: string;
  received: number;
  accepted: number;
  ignored: number;
  excluded: { reason: number; label: string; count: number }[];
  rejected: RejectedRecipient[];
}

/**
 * Appends a part to a delivery in one transaction: the delivery row is locked (parts of one
 * delivery are serialized, so duplicates across concurrent parts are still found), the
 * quarantine and the delivery's existing addresses are read in one query each, the core
 * prepares, and every message is written by one INSERT. With an Idempotency-Key, a repeated call
 * gets the first answer and writes nothing.
 *
 * `recipients` holds the part's recipients by index; an index the route already refused (dirty
 * text) is in `refused` instead and is reported, not written: one bad row never fails its
 * neighbours.
 */
export async function addPart(
  deps: AppDeps,
  who: Principal,
  id: string,
  part: { received: number; recipients: Map<number, Recipient>; refused: RejectedRecipient[] },
  idempotency: Idempotency | null,
): Promise<IdempotentResult<PartAnswer>> {
  // Resolved before the transaction: a slow name server must not hold the delivery's lock.
  const endpoints = await endpointErrors(deps, part.recipients);
  return await idempotent(
    deps.database,
    who.instanceId,
    idempotency,
    async (tx) => ({ status: 201, body: await writePart(deps, tx, who, id, part, endpoints) }),
  );
}

/**
 * Why each push endpoint of the part may not be connected to (server-side request forgery): not
 * https, or on a loopback, private, link-local … address, literally or by what its name resolves
 * to (see `checkEndpointResolved`), unless the operator allows it (SENDGATE_PUSH_ALLOW). By
 * index; the push sender checks again when it connects.
 */
async function endpointErrors(
  deps: AppDeps,
  recipients: Map<number, Recipient>,
): Promise<Map<number, string>> {
  const errors = new Map<number, string>();
  await Promise.all(
    [...recipients].map(async ([index, r]) => {
      if (typeof r.address !== "object" || r.address === null) return;
      const check = await checkEndpointResolved(r.address.endpoint, deps.pushAllow, deps.resolve);
      if (!check.ok) errors.set(index, check.error);
    }),
  );
  return errors;
}

async function writePart(
  deps: AppDeps,
  tx: Tx,
  who: Principal,
  id: string,
  part: { received: number; recipients: Map<number, Recipient>; refused: RejectedRecipient[] },
  endpoints: Map<number, string>,
): Promise<PartAnswer> {
  const delivery = await findDelivery(tx, who, id, true);
  if (delivery.state === "cancelled") {
    throw new ServiceError("conflict", `delivery ${id} is cancelled: it takes no more recipients`);
  }
  // A running delivery finishes whenever nothing waits; a part may still come (the campaign
  // instance sends its parts at its own pace) and runs it again, within its validity period.
  if (delivery.state === "finished" && delivery.validUntil.getTime() <= deps.now()) {
    throw new ServiceError(
      "conflict",
      `delivery ${id} is finished and its validity period ended: it takes no more recipients`,
    );
  }
  const channel = delivery.channel as Channel;
  const entries = [...part.recipients];
  const recipientAt = (i: number) => entries[i]![1];
  const inputs: RecipientInput[] = entries.map(([, r]) => ({
    externalId: r.externalId,
    address: typeof r.address === "object" && r.address !== null
      ? r.address.endpoint
      : r.address ?? null,
  }));
  const normalized = normalizeRecipients(channel, inputs);
  for (const n of normalized) {
    if (n.kind !== "ok") continue;
    const r = recipientAt(n.index);
    // Push keys are part of the address: without them, or with bad ones, nothing can be sent.
    const error = channel === "push"
      ? pushKeysError(r) ?? endpoints.get(entries[n.index]![0]) ?? null
      : typeof r.address === "object" && r.address !== null
      ? `a push subscription is not a ${channel} address`
      : null;
    if (error) Object.assign(n, { kind: "invalid", raw: n.address, error });
  }
  const addresses = normalized.flatMap((n) => (n.kind === "ok" ? [n.address] : []));
  const [statusRows, existingRows] = await Promise.all([
    execute<{ address: string; scope: string; status: string }>(
      tx,
      plans.addressStatuses(channel, who.instanceId, addresses),
    ),
    execute<{ address: string }>(tx, plans.addressesInDelivery(id, addresses)),
  ]);
  // Both scopes exclude (DOMAIN §7): the platform's entry and the instance's own; the stronger
  // exclusion of the two wins, so an instance learns no more than "quarantined" or "denylisted".
  const statuses = new Map<string, string>();
  for (const r of statusRows) {
    const seen = statuses.get(r.address);
    if (!seen || exclusionRank(r.status) > exclusionRank(seen)) statuses.set(r.address, r.status);
  }
  const existing = new Set(existingRows.map((r) => r.address));
  const control = delivery.controlGroup as { ratio?: number; externalIds?: string[] } | null;
  const prepared = prepareRecipients(normalized, {
    addressStatus: (a) => statuses.get(a) as never,
    alreadyInDelivery: (a) => existing.has(a),
    targeted: delivery.targeted,
    maxTargetSize: delivery.maxTargetSize,
    controlGroup: control
      ? {
        ...(control.ratio !== undefined ? { ratio: control.ratio } : {}),
        ...(control.externalIds ? { externalIds: new Set(control.externalIds) } : {}),
      }
      : null,
    random: () => randomInt(0, 2 ** 32) / 2 ** 32,
  });
  const rows: NewMessageRow[] = prepared.messages.map((m) => {
    const r = recipientAt(m.index);
    return {
      e: m.externalId,
      a: m.address,
      d: typeof r.address === "object" && r.address !== null ? { keys: r.address.keys } : null,
      p: r.fields ?? null,
      s: m.status,
      t: m.failure?.type ?? null,
      r: m.failure?.reason ?? null,
      m: channel === "email" && m.address ? emailDomain(m.address) : null,
    };
  });
  const at = new Date(deps.now()).toISOString();
  if (rows.length > 0) {
    await execute(tx, plans.insertMessages(id, rows, at));
    const deltas = new Map<string, CounterDelta>();
    for (const r of rows) {
      const reason = counterReason(r.s, r.r);
      const key = `${r.s}|${reason}`;
      const d = deltas.get(key) ?? { deliveryId: id, status: r.s, reason, delta: 0 };
      d.delta++;
      deltas.set(key, d);
    }
    await execute(tx, plans.bumpCounters([...deltas.values()]));
  }
  const targetedNow = prepared.pending + (prepared.byReason[127] ?? 0);
  const reopen = delivery.state === "finished" && prepared.pending > 0;
  if (targetedNow > 0 || reopen) {
    await tx.update(deliveries).set({
      targeted: sql`${deliveries.targeted} + ${targetedNow}`,
      ...(reopen ? { state: "running", finishedAt: null } : {}),
    }).where(eq(deliveries.id, id));
  }
  const rejected: RejectedRecipient[] = [
    ...part.refused,
    ...prepared.invalid.map((i) => {
      const [index, r] = entries[i.index]!;
      return {
        index,
        externalId: i.externalId,
        field: "address",
        address: r.address,
        error: i.error,
      };
    }),
  ].sort((a, b) => a.index - b.index);
  return {
    deliveryId: id,
    received: part.received,
    accepted: prepared.pending,
    ignored: prepared.ignored,
    excluded: Object.entries(prepared.byReason).map(([reason, count]) => ({
      reason: Number(reason),
      label: reasons[Number(reason) as ReasonCode].label,
      count: count!,
    })).sort((a, b) => a.reason - b.reason),
    rejected,
  };
}

const messageView = (m: typeof messages.$inferSelect) => ({
  id: String(m.id),
  deliveryId: m.deliveryId,
  externalId: m.externalId,
  address: m.address,
  status: m.status,
  failureType: m.failureType,
  reason: m.reason,
  attempt: m.attempt,
  nextAttemptAt: iso(m.nextAttemptAt),
  providerMessageId: m.providerMessageId,
  provider: m.provider,
  createdAt: m.createdAt.toISOString(),
  updatedAt: m.updatedAt.toISOString(),
});

export async function listMessages(
  deps: AppDeps,
  who: Principal,
  deliveryId: string,
  q: {
    status?: string | undefined;
    reason?: number | undefined;
    after: number | null;
    limit: number;
  },
) {
  await findDelivery(deps.database.db, who, deliveryId);
  const filters = [eq(messages.deliveryId, deliveryId)];
  if (q.status) filters.push(eq(messages.status, q.status));
  if (q.reason !== undefined) filters.push(eq(messages.reason, q.reason));
  if (q.after) filters.push(sql`${messages.id} > ${q.after}`);
  const rows = await deps.database.db.select().from(messages).where(and(...filters)).orderBy(
    messages.id,
  ).limit(q.limit + 1);
  const items = rows.slice(0, q.limit).map(messageView);
  return { items, next: rows.length > q.limit ? Number(items.at(-1)!.id) : null };
}

export async function getMessage(deps: AppDeps, who: Principal, id: string) {
  const key = integerId(id);
  if (key === null) throw new ServiceError("notFound", `no message ${id}`);
  const [row] = await deps.database.db.select({ m: messages }).from(messages)
    .innerJoin(deliveries, eq(deliveries.id, messages.deliveryId))
    .where(and(eq(messages.id, key), eq(deliveries.instanceId, who.instanceId)));
  if (!row) throw new ServiceError("notFound", `no message ${id}`);
  const events = await deps.database.db.select().from(messageEvents).where(
    eq(messageEvents.messageId, row.m.id),
  ).orderBy(messageEvents.id);
  return {
    ...messageView(row.m),
    fields: row.m.personalization ?? null,
    events: events.map((e) => ({
      at: e.at.toISOString(),
      event: e.event,
      status: e.status,
      failureType: e.failureType,
      reason: e.reason,
      text: e.text,
      detail: e.detail ?? null,
    })),
  };
}
