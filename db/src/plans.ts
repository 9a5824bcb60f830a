import { type SQL, sql } from "drizzle-orm";

/**
 * The gateway's hand-written SQL, each query named and in one place (as pg-boss keeps its SQL in
 * one plans module), run with `execute`. Everything here is set-based: one statement per batch,
 * values passed as one JSON parameter unpacked by `json_to_recordset`, never one per row. A plan
 * decides nothing: where it writes a status or a quarantine state, that value was decided by the
 * core, or the plan is tested row for row against the core's decision (see each plan).
 */

const json = (value: unknown) => JSON.stringify(value);

// ---------------------------------------------------------------------------------------------
// Intake

/** Quarantine statuses of a part's addresses in the platform's scope and the instance's. */
export const addressStatuses = (
  channel: string,
  instanceId: string,
  addresses: readonly string[],
): SQL =>
  sql`select address, scope, status from quarantine
      where channel = ${channel} and scope in ('', ${instanceId})
        and address in (select json_array_elements_text(${json(addresses)}::json))`;

/** Which of these addresses the delivery already has (duplicates across parts). */
export const addressesInDelivery = (deliveryId: string, addresses: readonly string[]): SQL =>
  sql`select address from messages
      where delivery_id = ${deliveryId}
        and address in (select json_array_elements_text(${json(addresses)}::json))`;

export interface NewMessageRow {
  /** external id, address, address data, personalization, status, failure type, reason, domain */
  e: string;
  a: string | null;
  d: unknown;
  p: unknown;
  s: string;
  t: string | null;
  r: number | null;
  m: string | null;
}

/** A part's messages, in one statement. `machine` stays null: the core's initial state. */
export const insertMessages = (deliveryId: string, rows: readonly NewMessageRow[], at: string) =>
  sql`insert into messages (delivery_id, external_id, address, address_data, personalization, status, failure_type, reason, domain, created_at, updated_at)
      select ${deliveryId}, r.e, r.a, r.d, r.p, r.s, r.t, r.r, r.m, ${at}::timestamptz, ${at}::timestamptz
      from json_to_recordset(${
    json(rows)
  }::json) as r(e text, a text, d jsonb, p jsonb, s text, t text, r smallint, m text)`;

// ---------------------------------------------------------------------------------------------
// Counters

export interface CounterDelta {
  deliveryId: string;
  status: string;
  /** -1 for none. */
  reason: number;
  delta: number;
}

/** Adds deltas to delivery counters (negative ones too), in the caller's transaction. */
export const bumpCounters = (deltas: readonly CounterDelta[]): SQL =>
  sql`insert into delivery_counters (delivery_id, status, reason, count)
      select r.d, r.s, r.r, r.n from json_to_recordset(${
    json(deltas.map((d) => ({ d: d.deliveryId, s: d.status, r: d.reason, n: d.delta })))
  }::json) as r(d uuid, s text, r smallint, n int)
      on conflict (delivery_id, status, reason) do update set count = delivery_counters.count + excluded.count`;

/** A delivery's counters (rows at zero left out). */
export const deliveryCounters = (deliveryId: string): SQL =>
  sql`select status, reason, count from delivery_counters where delivery_id = ${deliveryId} and count <> 0`;

// ---------------------------------------------------------------------------------------------
// Quarantine

/**
 * A suppression list batch: the core's `set` event (`decideAddress`) for each row, written in
 * SQL — tested row for row against the core (test/quarantine-plans.test.ts): the status date is
 * kept when the status does not change, a row's comment replaces the entry's and a row without
 * one keeps it, the cause text and rule are cleared (the import is the cause now). A row that
 * would not change is not rewritten.
 */
export const importAddresses = (
  channel: string,
  scope: string,
  status: string,
  rows: readonly { a: string; c: string | null }[],
  at: string,
): SQL =>
  sql`insert into quarantine (channel, address, scope, status, comment, status_since, updated_at)
      select ${channel}, r.a, ${scope}, ${status}, r.c, ${at}::timestamptz, ${at}::timestamptz
      from json_to_recordset(${json(rows)}::json) as r(a text, c text)
      on conflict (channel, address, scope) do update set
        status = excluded.status,
        status_since = case when quarantine.status = excluded.status then quarantine.status_since else excluded.status_since end,
        comment = coalesce(excluded.comment, quarantine.comment),
        cause_text = null,
        cause_rule_id = null,
        updated_at = excluded.updated_at
      where quarantine.status <> excluded.status
        or (excluded.comment is not null and quarantine.comment is distinct from excluded.comment)
        or quarantine.cause_text is not null
        or quarantine.cause_rule_id is not null`;

/**
 * The core's `release` event (`decideAddress`) for the platform entries a text or a rule caused
 * in a time window: quarantined and erroneous become valid with no error, the status date moves,
 * a given comment replaces the entry's; any other status stays. Tested row for row against the
 * core (test/quarantine-plans.test.ts).
 */
export const releaseCausedBy = (
  channel: string,
  cause: { text: string } | { ruleId: string },
  from: string,
  to: string,
  comment: string | null,
  at: string,
): SQL =>
  sql`update quarantine set status = 'valid', error_count = 0, status_since = ${at}::timestamptz,
        updated_at = ${at}::timestamptz, comment = coalesce(${comment}::text, comment)
      where channel = ${channel} and scope = '' and status in ('quarantined', 'erroneous')
        and ${
    "text" in cause ? sql`cause_text = ${cause.text}` : sql`cause_rule_id = ${cause.ruleId}`
  }
        and status_since between ${from}::timestamptz and ${to}::timestamptz
      returning address`;

// ---------------------------------------------------------------------------------------------
// Message transitions (the core's `apply`, decided in the gateway, stored here in bulk)

export interface TransitionRow {
  id: number;
  status: string;
  failureType: string | null;
  reason: number | null;
  attempt: number;
  nextAttemptAt: string | null;
  machine: unknown;
  /** Whether the message stays claimed (its dispatcher still holds it). */
  keepClaim: boolean;
  providerMessageId?: string | null;
  provider?: string | null;
}

/** Writes decided states, one statement for the batch. */
export const writeTransitions = (rows: readonly TransitionRow[], at: string): SQL =>
  sql`update messages m set status = r.status, failure_type = r.failure_type, reason = r.reason,
        attempt = r.attempt, next_attempt_at = r.next_attempt_at, machine = r.machine,
        provider_message_id = coalesce(r.provider_message_id, m.provider_message_id),
        provider = coalesce(r.provider, m.provider),
        claimed_by = case when r.keep_claim then m.claimed_by end,
        lease_until = case when r.keep_claim then m.lease_until end,
        updated_at = ${at}::timestamptz
      from json_to_recordset(${
    json(rows.map((r) => ({
      id: r.id,
      status: r.status,
      failure_type: r.failureType,
      reason: r.reason,
      attempt: r.attempt,
      next_attempt_at: r.nextAttemptAt,
      machine: r.machine,
      keep_claim: r.keepClaim,
      provider_message_id: r.providerMessageId ?? null,
      provider: r.provider ?? null,
    })))
  }::json) as r(id bigint, status text, failure_type text, reason smallint, attempt smallint,
        next_attempt_at timestamptz, machine jsonb, keep_claim boolean, provider_message_id text,
        provider text)
      where m.id = r.id`;

export interface EventRow {
  messageId: number;
  event: string;
  status: string;
  failureType: string | null;
  reason: number | null;
  text: string | null;
  detail: unknown;
}

export const insertEvents = (rows: readonly EventRow[], at: string): SQL =>
  sql`insert into message_events (message_id, at, event, status, failure_type, reason, text, detail)
      select r.m, ${at}::timestamptz, r.e, r.s, r.t, r.r, r.x, r.d
      from json_to_recordset(${
    json(rows.map((r) => ({
      m: r.messageId,
      e: r.event,
      s: r.status,
      t: r.failureType,
      r: r.reason,
      x: r.text,
      d: r.detail ?? null,
    })))
  }::json) as r(m bigint, e text, s text, t text, r smallint, x text, d jsonb)`;

/** Messages of a delivery that a cancel must decide one by one (their state is not the initial one). */
export const cancellable = (deliveryId: string): SQL =>
  sql`select id, delivery_id as "deliveryId", status, failure_type as "failureType", reason, attempt, machine
      from messages where delivery_id = ${deliveryId}
        and (status = 'prepared' or (status = 'pending' and machine is not null))
      for update`;

/**
 * Cancels, in one statement, a delivery's messages still in the core's initial state (never
 * claimed, never failed): every one of them gets the same decided state, `machine`, computed by
 * the core's `apply(initialState(), cancel)` (see services/deliveries.ts), with its event.
 */
export const cancelInitial = (
  deliveryId: string,
  decided: { status: string; machine: unknown },
  at: string,
): SQL =>
  sql`with cancelled as (
        update messages set status = ${decided.status}, machine = ${json(decided.machine)}::jsonb,
          next_attempt_at = null, updated_at = ${at}::timestamptz
        where delivery_id = ${deliveryId} and status = 'pending' and machine is null
        returning id
      ), logged as (
        insert into message_events (message_id, at, event, status)
        select id, ${at}::timestamptz, 'cancel', ${decided.status} from cancelled
      )
      select count(*)::int as n from cancelled`;
