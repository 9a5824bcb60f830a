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

const counterKey = (d: CounterDelta) => `${d.deliveryId}|${d.status}|${d.reason}`;

/**
 * Adds deltas to delivery counters (negative ones too), in the caller's transaction. Rows are
 * written in one fixed order, so two transactions touching the same counters wait for each other
 * instead of deadlocking; callers write counters last, to hold these busy rows briefly.
 */
export const bumpCounters = (deltas: readonly CounterDelta[]): SQL =>
  sql`insert into delivery_counters (delivery_id, status, reason, count)
      select r.d, r.s, r.r, r.n from json_to_recordset(${
    json(
      [...deltas].sort((a, b) => (counterKey(a) < counterKey(b) ? -1 : 1))
        .map((d) => ({ d: d.deliveryId, s: d.status, r: d.reason, n: d.delta })),
    )
  }::json) as r(d uuid, s text, r smallint, n int) order by r.d, r.s, r.r
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

/** A claim's hold on its messages: who holds them, and until when (their lease). */
export interface Hold {
  claimer: string;
  leaseUntil: string;
}

/**
 * Each distinct value once, and per item the index of its value: a batch's rows mostly share a
 * few states (200 messages taken into account in one batch have one `machine` between them), so
 * a plan sends the states once and each row its index. This cut the bytes the dispatcher sends
 * PostgreSQL by half under SMS load (the transition rows were 330 bytes each, 70 MB per 40,000
 * messages), and the server parses each state's jsonb once, not once per row.
 */
function shared<T, V>(
  items: readonly T[],
  valueOf: (item: T) => V,
): { values: V[]; index: number[] } {
  const keys = new Map<string, number>();
  const values: V[] = [];
  const index = items.map((item) => {
    const value = valueOf(item);
    const key = JSON.stringify(value);
    let k = keys.get(key);
    if (k === undefined) {
      k = values.length;
      keys.set(key, k);
      values.push(value);
    }
    return k;
  });
  return { values, index };
}

/**
 * The update of decided states: a row that stays claimed keeps its holder and lease, or takes
 * `hold`'s when given (a claim writes its state and its lease in one update of each row). The
 * states (status columns and `machine`) go once each (`shared`), the rows by index.
 */
const transitionUpdate = (rows: readonly TransitionRow[], at: string, hold: Hold | null): SQL => {
  const states = shared(rows, (r) => [
    r.status,
    r.failureType,
    r.reason,
    r.attempt,
    r.nextAttemptAt,
    r.machine,
  ]);
  return sql`update messages m set status = x.status, failure_type = x.failure_type,
        reason = x.reason, attempt = x.attempt, next_attempt_at = x.next_attempt_at,
        machine = x.machine,
        provider_message_id = coalesce(x.provider_message_id, m.provider_message_id),
        provider = coalesce(x.provider, m.provider),
        claimed_by = case when x.keep_claim then coalesce(${
    hold?.claimer ?? null
  }::text, m.claimed_by) end,
        lease_until = case when x.keep_claim then coalesce(${
    hold?.leaseUntil ?? null
  }::timestamptz, m.lease_until) end,
        updated_at = ${at}::timestamptz
      from (
        select r.id, r.c as keep_claim, r.p as provider_message_id, r.v as provider,
          s->>0 as status, s->>1 as failure_type, (s->>2)::smallint as reason,
          (s->>3)::smallint as attempt, (s->>4)::timestamptz as next_attempt_at,
          s->5 as machine
        from json_to_recordset(${
    json(rows.map((r, i) => ({
      id: r.id,
      k: states.index[i],
      c: r.keepClaim,
      p: r.providerMessageId ?? null,
      v: r.provider ?? null,
    })))
  }::json) as r(id bigint, k int, c boolean, p text, v text)
        join (select (ordinality - 1)::int as k, value as s
              from jsonb_array_elements(${json(states.values)}::jsonb) with ordinality) q
          on q.k = r.k
      ) x
      where m.id = x.id`;
};

/** Writes decided states, one statement for the batch. */
export const writeTransitions = (rows: readonly TransitionRow[], at: string): SQL =>
  transitionUpdate(rows, at, null);

export interface EventRow {
  messageId: number;
  event: string;
  status: string;
  failureType: string | null;
  reason: number | null;
  text: string | null;
  detail: unknown;
}

export const insertEvents = (rows: readonly EventRow[], at: string): SQL => {
  // What events of a batch share (event, status, failure type, reason) goes once (`shared`).
  const kinds = shared(rows, (r) => [r.event, r.status, r.failureType, r.reason]);
  return sql`insert into message_events (message_id, at, event, status, failure_type, reason, text, detail)
      select r.m, ${at}::timestamptz, q.s->>0, q.s->>1, q.s->>2, (q.s->>3)::smallint, r.x, r.d
      from rows from (json_to_recordset(${
    json(rows.map((r, i) => ({
      m: r.messageId,
      k: kinds.index[i],
      x: r.text,
      d: r.detail ?? null,
    })))
  }::json) as (m bigint, k int, x text, d jsonb)) with ordinality as r(m, k, x, d, n)
      join (select (ordinality - 1)::int as k, value as s
            from jsonb_array_elements(${json(kinds.values)}::jsonb) with ordinality) q
        on q.k = r.k
      order by r.n`;
};

/**
 * `writeTransitions` and `insertEvents` in one statement (one round trip per batch, not two),
 * with `hold` written in the same update when the messages are being claimed.
 */
export const storeTransitions = (
  rows: readonly TransitionRow[],
  events: readonly EventRow[],
  at: string,
  hold: Hold | null = null,
): SQL =>
  sql`with written as (${transitionUpdate(rows, at, hold)} returning m.id),
      logged as (${insertEvents(events, at)})
      select count(*)::int as n from written`;

/** Messages of a delivery that a cancel must decide one by one (their state is not the initial one). */
export const cancellable = (deliveryId: string): SQL =>
  sql`select id::float8 as id, delivery_id as "deliveryId", status, failure_type as "failureType", reason, attempt, machine
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

// ---------------------------------------------------------------------------------------------
// The dispatcher

/** What a claim reads of a message: enough for the core and the channel. */
// Ids as float8: exact below 2^53, and a number on both drivers (postgres.js answers a bigint as
// a string).
const CLAIMED_COLUMNS = sql.raw(
  `m.id::float8 as id, m.delivery_id as "deliveryId", m.external_id as "externalId",
  m.address, m.address_data as "addressData", m.personalization as "fields", m.status,
  m.failure_type as "failureType", m.reason, m.attempt, m.machine, m.domain,
  m.scheduled_retries as "scheduledRetries", m.backoffs_in_a_row as "backoffsInARow"`,
);

/**
 * Running deliveries in the order they take their turn (priority, then start), each with what the
 * dispatcher needs to decide whether it may send now.
 */
export const runningDeliveries = (limit: number): SQL =>
  sql`select id, instance_id as "instanceId", channel, priority, affinity,
        scheduled_at as "scheduledAt", sending_window as "sendingWindow",
        valid_until as "validUntil", retry_policy as "retryPolicy", content,
        paused_at as "pausedAt", pause_reason as "pauseReason", started_at as "startedAt"
      from deliveries where state = 'running'
      order by priority desc, started_at, id limit ${limit}`;

/** Deliveries by id whatever their state, as the dispatcher reads them (reports of finished ones). */
export const deliveriesByIds = (ids: readonly string[]): SQL =>
  sql`select id, instance_id as "instanceId", channel, priority, affinity,
        scheduled_at as "scheduledAt", sending_window as "sendingWindow",
        valid_until as "validUntil", retry_policy as "retryPolicy", content,
        paused_at as "pausedAt", pause_reason as "pauseReason", started_at as "startedAt"
      from deliveries where id in (select json_array_elements_text(${json(ids)}::json)::uuid)`;

/**
 * Candidates of one delivery, locked (`SKIP LOCKED`: another dispatcher's candidates are not
 * waited for): first attempts, retries that came due, and claims whose lease ran out (their
 * dispatcher died). The caller decides which to claim (domain rates) and writes the claim; the
 * rest are released, unchanged, at commit.
 */
export const claimCandidates = (deliveryId: string, now: string, limit: number): SQL =>
  sql`with firsts as (
        select ${CLAIMED_COLUMNS} from messages m
        where m.delivery_id = ${deliveryId} and m.status = 'pending' and m.next_attempt_at is null
        order by m.id limit ${limit} for update skip locked
      ), retries as (
        select ${CLAIMED_COLUMNS} from messages m
        where m.delivery_id = ${deliveryId} and m.status = 'pending'
          and m.next_attempt_at <= ${now}::timestamptz
        order by m.next_attempt_at limit ${limit} for update skip locked
      ), orphans as (
        select ${CLAIMED_COLUMNS} from messages m
        where m.delivery_id = ${deliveryId} and m.status = 'prepared'
          and m.lease_until < ${now}::timestamptz
        limit ${limit} for update skip locked
      )
      select * from orphans union all select * from retries union all select * from firsts`;

/** Marks claimed messages as held by `claimer` until `leaseUntil` (their state is written apart). */
export const holdClaims = (ids: readonly number[], claimer: string, leaseUntil: string): SQL =>
  sql`update messages set claimed_by = ${claimer}, lease_until = ${leaseUntil}::timestamptz
      where id in (select json_array_elements_text(${json(ids)}::json)::bigint)`;

/** Extends the lease of a batch still being sent, for the messages its dispatcher still holds. */
export const renewClaims = (ids: readonly number[], claimer: string, leaseUntil: string): SQL =>
  sql`update messages set lease_until = ${leaseUntil}::timestamptz
      where id in (select json_array_elements_text(${json(ids)}::json)::bigint)
        and claimed_by = ${claimer} and status = 'prepared'`;

/** Per-domain flow state, unlocked: enough to see a suspension. */
export const readDomainFlow = (domains: readonly string[]): SQL =>
  sql`select domain, window_start as "windowStart", sent_in_window as "sentInWindow",
        stats_start as "statsStart", results, errors, suspended_until as "suspendedUntil"
      from domain_flow where domain in (select json_array_elements_text(${json(domains)}::json))`;

/** Per-domain flow state, locked in domain order (no deadlock between dispatchers). */
export const lockDomainFlow = (domains: readonly string[]): SQL =>
  sql`select domain, window_start as "windowStart", sent_in_window as "sentInWindow",
        stats_start as "statsStart", results, errors, suspended_until as "suspendedUntil"
      from domain_flow where domain in (select json_array_elements_text(${json(domains)}::json))
      order by domain for update`;

export interface DomainFlowRow {
  domain: string;
  windowStart: string;
  sentInWindow: number;
  statsStart: string;
  results: number;
  errors: number;
  suspendedUntil: string | null;
  suspendedRate: number | null;
  suspendedResults: number | null;
}

/** Writes the core's decided flow states (`takeSendSlot`, `recordDomainResult`). */
export const writeDomainFlow = (rows: readonly DomainFlowRow[], at: string): SQL =>
  sql`insert into domain_flow (domain, window_start, sent_in_window, stats_start, results, errors,
        suspended_until, suspended_rate, suspended_results, updated_at)
      select r.domain, r.window_start, r.sent_in_window, r.stats_start, r.results, r.errors,
        r.suspended_until, r.suspended_rate, r.suspended_results, ${at}::timestamptz
      from json_to_recordset(${
    json(rows.map((r) => ({
      domain: r.domain,
      window_start: r.windowStart,
      sent_in_window: r.sentInWindow,
      stats_start: r.statsStart,
      results: r.results,
      errors: r.errors,
      suspended_until: r.suspendedUntil,
      suspended_rate: r.suspendedRate,
      suspended_results: r.suspendedResults,
    })))
  }::json) as r(domain text, window_start timestamptz, sent_in_window int, stats_start timestamptz,
        results int, errors int, suspended_until timestamptz, suspended_rate real, suspended_results int)
      on conflict (domain) do update set window_start = excluded.window_start,
        sent_in_window = excluded.sent_in_window, stats_start = excluded.stats_start,
        results = excluded.results, errors = excluded.errors,
        suspended_until = excluded.suspended_until,
        suspended_rate = coalesce(excluded.suspended_rate, domain_flow.suspended_rate),
        suspended_results = coalesce(excluded.suspended_results, domain_flow.suspended_results),
        updated_at = excluded.updated_at`;

/** Domains suspended now, with why (for claims and for a delivery's pending reasons). */
export const suspendedDomains = (now: string): SQL =>
  sql`select domain, suspended_until as "suspendedUntil", suspended_rate as "rate",
        suspended_results as "results"
      from domain_flow where suspended_until > ${now}::timestamptz`;

/** Retry counters the dispatcher keeps beside the core's state. */
export const writeRetryCounters = (
  rows: readonly { id: number; scheduled: number; backoffs: number }[],
): SQL =>
  sql`update messages m set scheduled_retries = r.s, backoffs_in_a_row = r.b
      from json_to_recordset(${
    json(rows.map((r) => ({ id: r.id, s: r.scheduled, b: r.backoffs })))
  }::json) as r(id bigint, s smallint, b smallint) where m.id = r.id`;

/** Qualification entries of these (channel, normalized text) pairs, locked. */
export const lockEntries = (keys: readonly { channel: string; normalized: string }[]): SQL =>
  sql`select e.id, e.channel, e.normalized_text as "normalizedText", e.first_text as "firstText",
        e.type, e.reason, e.status, e.rule_id as "ruleId", e.count,
        e.first_seen_at as "firstSeenAt", e.last_seen_at as "lastSeenAt"
      from qualification_entries e
      join json_to_recordset(${
    json(keys.map((k) => ({ c: k.channel, n: k.normalized })))
  }::json) as k(c text, n text) on e.channel = k.c and e.normalized_text = k.n
      order by e.id for update of e`;

export interface EntryRow {
  channel: string;
  normalizedText: string;
  firstText: string;
  type: string;
  reason: number;
  status: string;
  ruleId: string | null;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** Writes the core's `recordOccurrence` results: new entries and updated ones. */
export const writeEntries = (rows: readonly EntryRow[]): SQL =>
  sql`insert into qualification_entries (channel, normalized_text, first_text, type, reason, status,
        rule_id, count, first_seen_at, last_seen_at)
      select r.c, r.n, r.f, r.t, r.r, r.s, r.u, r.k, r.a, r.z
      from json_to_recordset(${
    json(rows.map((r) => ({
      c: r.channel,
      n: r.normalizedText,
      f: r.firstText,
      t: r.type,
      r: r.reason,
      s: r.status,
      u: r.ruleId,
      k: r.count,
      a: r.firstSeenAt,
      z: r.lastSeenAt,
    })))
  }::json) as r(c text, n text, f text, t text, r smallint, s text, u text, k int, a timestamptz, z timestamptz)
      on conflict (channel, normalized_text) do update set type = excluded.type,
        reason = excluded.reason, status = excluded.status, rule_id = excluded.rule_id,
        count = excluded.count, last_seen_at = excluded.last_seen_at`;

/** Platform quarantine entries of these addresses, locked. */
export const lockAddresses = (channel: string, addresses: readonly string[]): SQL =>
  sql`select channel, address, status, error_count as "errorCount", last_type as "lastType",
        last_reason as "lastReason", last_text as "lastText", first_error_at as "firstErrorAt",
        last_error_at as "lastErrorAt", status_since as "statusSince", comment
      from quarantine where channel = ${channel} and scope = ''
        and address in (select json_array_elements_text(${json(addresses)}::json))
      order by address for update`;

export interface AddressRow {
  address: string;
  status: string;
  errorCount: number;
  lastType: string | null;
  lastReason: number | null;
  lastText: string | null;
  firstErrorAt: string | null;
  lastErrorAt: string | null;
  statusSince: string;
  comment: string | null;
  causeText: string | null;
  causeRuleId: string | null;
}

/** Writes the core's `decideAddress` results into the platform scope. */
export const writeAddresses = (channel: string, rows: readonly AddressRow[], at: string): SQL =>
  sql`insert into quarantine (channel, address, scope, status, error_count, last_type, last_reason,
        last_text, first_error_at, last_error_at, status_since, comment, cause_text, cause_rule_id,
        updated_at)
      select ${channel}, r.a, '', r.s, r.n, r.t, r.r, r.x, r.f, r.l, r.since, r.c, r.ct, r.cr,
        ${at}::timestamptz
      from json_to_recordset(${
    json(rows.map((r) => ({
      a: r.address,
      s: r.status,
      n: r.errorCount,
      t: r.lastType,
      r: r.lastReason,
      x: r.lastText,
      f: r.firstErrorAt,
      l: r.lastErrorAt,
      since: r.statusSince,
      c: r.comment,
      ct: r.causeText,
      cr: r.causeRuleId,
    })))
  }::json) as r(a text, s text, n int, t text, r smallint, x text, f timestamptz, l timestamptz,
        since timestamptz, c text, ct text, cr text)
      on conflict (channel, address, scope) do update set status = excluded.status,
        error_count = excluded.error_count, last_type = excluded.last_type,
        last_reason = excluded.last_reason, last_text = excluded.last_text,
        first_error_at = excluded.first_error_at, last_error_at = excluded.last_error_at,
        status_since = excluded.status_since, comment = excluded.comment,
        cause_text = coalesce(excluded.cause_text, quarantine.cause_text),
        cause_rule_id = coalesce(excluded.cause_rule_id, quarantine.cause_rule_id),
        updated_at = excluded.updated_at`;

/** Running deliveries among these whose messages no longer wait for a sender: finished. */
export const finishDone = (deliveryIds: readonly string[], at: string): SQL =>
  sql`update deliveries d set state = 'finished', finished_at = ${at}::timestamptz
      where d.id in (select json_array_elements_text(${json(deliveryIds)}::json)::uuid)
        and d.state = 'running'
        and not exists (select 1 from delivery_counters c where c.delivery_id = d.id
          and c.status in ('pending', 'prepared', 'sentToProvider') and c.count > 0)
      returning d.id`;

/** Deliveries finished since `since` that have messages waiting after all: running again. */
export const reopenWaiting = (since: string): SQL =>
  sql`update deliveries d set state = 'running', finished_at = null
      where d.state = 'finished' and d.finished_at > ${since}::timestamptz
        and exists (select 1 from delivery_counters c where c.delivery_id = d.id
          and c.status in ('pending', 'prepared', 'sentToProvider') and c.count > 0)
      returning d.id`;

/** Pauses a delivery for a reason of ours (push 401/403: the VAPID configuration). */
export const pauseDelivery = (deliveryId: string, reason: string, at: string): SQL =>
  sql`update deliveries set paused_at = ${at}::timestamptz, pause_reason = ${reason}
      where id = ${deliveryId} and paused_at is null`;

/** Messages still waiting when their delivery's validity ended, locked (the expiry's batch). */
export const expiredWaiting = (now: string, limit: number): SQL =>
  sql`select m.id::float8 as id, m.delivery_id as "deliveryId", m.status,
        m.failure_type as "failureType", m.reason, m.attempt, m.machine
      from messages m join deliveries d on d.id = m.delivery_id
      where d.state = 'running' and d.valid_until < ${now}::timestamptz and m.status = 'pending'
      limit ${limit} for update of m skip locked`;

/** This dispatcher is alive (and what it serves). */
export const heartbeat = (
  sender: {
    id: string;
    hostname: string;
    pid: number;
    affinities: string[];
    channels: string[];
    down?: Record<string, string>;
  },
  at: string,
): SQL =>
  sql`insert into senders (id, hostname, pid, affinities, channels, down, started_at, heartbeat_at)
      values (${sender.id}, ${sender.hostname}, ${sender.pid}, ${json(sender.affinities)}::jsonb,
        ${json(sender.channels)}::jsonb, ${json(sender.down ?? {})}::jsonb, ${at}::timestamptz,
        ${at}::timestamptz)
      on conflict (id) do update set heartbeat_at = excluded.heartbeat_at,
        affinities = excluded.affinities, channels = excluded.channels, down = excluded.down`;

export const liveSenders = (since: string): SQL =>
  sql`select id, affinities, channels, down, heartbeat_at as "heartbeatAt" from senders
      where heartbeat_at > ${since}::timestamptz`;

export const forgetSender = (id: string): SQL => sql`delete from senders where id = ${id}`;

/**
 * A delivery's waiting messages by recipient domain (email) with their domain's flow state, and
 * the retries not yet due: what `GET /v1/deliveries/{id}` says about why they wait.
 */
export const pendingBreakdown = (deliveryId: string, now: string): SQL =>
  sql`select m.domain, count(*)::int as count,
        count(*) filter (where m.next_attempt_at > ${now}::timestamptz)::int as "retriesLater",
        min(m.next_attempt_at) filter (where m.next_attempt_at > ${now}::timestamptz) as "nextRetryAt",
        f.suspended_until as "suspendedUntil", f.suspended_rate as "suspendedRate",
        f.suspended_results as "suspendedResults", f.window_start as "windowStart",
        f.sent_in_window as "sentInWindow"
      from messages m left join domain_flow f on f.domain = m.domain
      where m.delivery_id = ${deliveryId} and m.status = 'pending'
      group by m.domain, f.domain order by count(*) desc limit 50`;

/** A batch's messages as they are now, locked: its outcomes are decided on their current state. */
export const lockMessages = (ids: readonly number[]): SQL =>
  sql`select ${CLAIMED_COLUMNS} from messages m
      where m.id in (select json_array_elements_text(${json(ids)}::json)::bigint)
      order by m.id for update`;

// ---------------------------------------------------------------------------------------------
// SMS: delivery reports, mobile-originated messages, bind slots

export interface NewReportRow {
  provider: string;
  source: "smpp" | "http";
  remoteId: string;
  stat: string;
  err: string | null;
  text: string | null;
  doneAt: string | null;
  detail: unknown;
}

/** Stores arrived reports (one statement for a burst of receipts), not yet applied. */
export const insertReports = (rows: readonly NewReportRow[], at: string): SQL =>
  sql`insert into sms_reports (provider, source, remote_id, stat, err, text, done_at, received_at, detail)
      select r.provider, r.source, r.remote_id, r.stat, r.err, r.text, r.done_at, ${at}::timestamptz, r.detail
      from json_to_recordset(${
    json(rows.map((r) => ({
      provider: r.provider,
      source: r.source,
      remote_id: r.remoteId,
      stat: r.stat,
      err: r.err,
      text: r.text,
      done_at: r.doneAt,
      detail: r.detail ?? null,
    })))
  }::json) as r(provider text, source text, remote_id text, stat text, err text, text text,
        done_at timestamptz, detail jsonb)
      returning id::float8 as id`;

export interface ReportRow {
  id: number;
  provider: string;
  source: string;
  remoteId: string;
  stat: string;
  err: string | null;
  text: string | null;
  tries: number;
  receivedAt: string;
}

/**
 * Reports to apply, locked (`SKIP LOCKED`: two dispatchers share the work): new ones in arrival
 * order, then waiting ones whose next try came.
 */
export const lockReports = (now: string, limit: number): SQL =>
  sql`with fresh as (
        select id from sms_reports where state = 'pending' order by id limit ${limit}
        for update skip locked
      ), due as (
        select id from sms_reports where state = 'waiting' and retry_at <= ${now}::timestamptz
        order by retry_at limit ${limit} for update skip locked
      )
      select r.id::float8 as id, r.provider, r.source, r.remote_id as "remoteId", r.stat, r.err,
        r.text, r.tries, r.received_at as "receivedAt"
      from sms_reports r where r.id in (select id from fresh union all select id from due)
      order by r.id`;

/** Messages named by (provider, canonical id), locked, with what applying a report needs. */
export const lockMessagesByProviderId = (keys: readonly { provider: string; id: string }[]): SQL =>
  sql`select ${CLAIMED_COLUMNS}, m.provider, m.provider_message_id as "providerMessageId"
      from messages m
      where (m.provider, m.provider_message_id) in (
        select k.provider, k.id from json_to_recordset(${
    json(keys)
  }::json) as k(provider text, id text))
        and m.provider_message_id is not null
      order by m.id for update of m`;

/** Reports applied to their message (or to none: a duplicate of one already applied). */
export const markReportsApplied = (
  rows: readonly { id: number; messageId: number | null }[],
  at: string,
): SQL =>
  sql`update sms_reports r set state = 'applied', applied_at = ${at}::timestamptz,
        message_id = x.message_id, tries = r.tries + 1, retry_at = null
      from json_to_recordset(${
    json(rows.map((r) => ({ id: r.id, message_id: r.messageId })))
  }::json) as x(id bigint, message_id bigint)
      where r.id = x.id`;

/** Reports no message matched yet: tried again at `retryAt` each. */
export const markReportsWaiting = (rows: readonly { id: number; retryAt: string }[]): SQL =>
  sql`update sms_reports r set state = 'waiting', tries = r.tries + 1,
        retry_at = x.retry_at
      from json_to_recordset(${
    json(rows.map((r) => ({ id: r.id, retry_at: r.retryAt })))
  }::json) as x(id bigint, retry_at timestamptz)
      where r.id = x.id`;

/** Finished deliveries of these ids that have messages waiting again (a receipt scheduled a retry). */
export const reopenDeliveries = (deliveryIds: readonly string[]): SQL =>
  sql`update deliveries d set state = 'running', finished_at = null
      where d.id in (select json_array_elements_text(${json(deliveryIds)}::json)::uuid)
        and d.state = 'finished'
        and exists (select 1 from delivery_counters c where c.delivery_id = d.id
          and c.status in ('pending', 'prepared', 'sentToProvider') and c.count > 0)
      returning d.id`;

/** Reports by state (operators: how many wait for a message that never showed up). */
export const reportCounts = (): SQL =>
  sql`select provider, state, count(*)::int as count, min(received_at) as "oldest"
      from sms_reports group by provider, state order by provider, state`;

/** Reports still waiting for their message, oldest first. */
export const waitingReports = (limit: number, afterId: number): SQL =>
  sql`select id::float8 as id, provider, source, remote_id as "remoteId", stat, err, text,
        tries, received_at as "receivedAt", retry_at as "retryAt"
      from sms_reports where state = 'waiting' and id > ${afterId}
      order by id limit ${limit}`;

export interface NewInboundRow {
  provider: string;
  fromNumber: string;
  toNumber: string;
  text: string;
  keyword: string | null;
  instanceId: string | null;
}

export const insertInbound = (rows: readonly NewInboundRow[], at: string): SQL =>
  sql`insert into sms_inbound (provider, from_number, to_number, text, keyword, instance_id, received_at)
      select r.provider, r.from_number, r.to_number, r.text, r.keyword, r.instance_id, ${at}::timestamptz
      from json_to_recordset(${
    json(rows.map((r) => ({
      provider: r.provider,
      from_number: r.fromNumber,
      to_number: r.toNumber,
      text: r.text,
      keyword: r.keyword,
      instance_id: r.instanceId,
    })))
  }::json) as r(provider text, from_number text, to_number text, text text, keyword text,
        instance_id text)`;

/** The instance that last sent an SMS to `address`: who a STOP from that number is for. */
export const lastSmsSender = (address: string): SQL =>
  sql`select d.instance_id as "instanceId" from messages m
      join deliveries d on d.id = m.delivery_id
      where m.address = ${address} and d.channel = 'sms'
      order by m.id desc limit 1`;

/** A provider's bind slots, locked (the lease is decided in the caller's transaction). */
export const lockBindSlots = (provider: string): SQL =>
  sql`select slot, holder, lease_until as "leaseUntil" from sms_bind_leases
      where provider = ${provider} order by slot for update`;

/** Writes the slots `holder` keeps or takes (upsert) and drops those it gives up. */
export const writeBindSlots = (
  provider: string,
  holder: string,
  take: readonly number[],
  release: readonly number[],
  leaseUntil: string,
): SQL =>
  sql`with dropped as (
        delete from sms_bind_leases where provider = ${provider} and holder = ${holder}
          and slot in (select json_array_elements_text(${json(release)}::json)::int)
      )
      insert into sms_bind_leases (provider, slot, holder, lease_until)
      select ${provider}, s::int, ${holder}, ${leaseUntil}::timestamptz
      from json_array_elements_text(${json(take)}::json) as s
      on conflict (provider, slot) do update set holder = excluded.holder,
        lease_until = excluded.lease_until`;

/** Every bind slot held now, for operators and the waiting reasons. */
export const bindSlots = (now: string): SQL =>
  sql`select provider, slot, holder, lease_until as "leaseUntil" from sms_bind_leases
      where lease_until > ${now}::timestamptz order by provider, slot`;

/** Releases every slot a stopping dispatcher holds. */
export const releaseBindSlots = (holder: string): SQL =>
  sql`delete from sms_bind_leases where holder = ${holder}`;

// ---------------------------------------------------------------------------------------------
// Email reports: bounces, auto-replies, complaints (stored raw, then applied)

export interface EmailReportRow {
  id: number;
  source: string;
  envelopeFrom: string | null;
  envelopeTo: string | null;
  size: number;
  tries: number;
  receivedAt: string;
}

/** Reports not applied yet, and those whose retry came due, locked (SKIP LOCKED: shared work). */
export const lockEmailReports = (now: string, limit: number): SQL =>
  sql`with fresh as (
        select id from email_reports where state = 'pending' order by id limit ${limit}
        for update skip locked
      ), due as (
        select id from email_reports where state = 'waiting' and retry_at <= ${now}::timestamptz
        order by retry_at limit ${limit} for update skip locked
      )
      select r.id::float8 as id, r.source, r.envelope_from as "envelopeFrom",
        r.envelope_to as "envelopeTo", r.size, r.tries, r.received_at as "receivedAt"
      from email_reports r where r.id in (select id from fresh union all select id from due)
      order by r.id`;

/** The raw bytes of these reports (read apart: a batch reads only what its byte budget allows). */
export const emailReportRaw = (ids: readonly number[]): SQL =>
  sql`select id::float8 as id, raw from email_reports
      where id in (select json_array_elements_text(${json(ids)}::json)::bigint)`;

/** What applying decided for each report: its state, what it was, the message it named. */
export const markEmailReports = (
  rows: readonly {
    id: number;
    state: "applied" | "unmatched" | "ignored" | "waiting";
    kind: string | null;
    messageId: number | null;
    retryAt: string | null;
    detail: unknown;
  }[],
  at: string,
): SQL =>
  sql`update email_reports r set state = x.state, kind = x.kind, message_id = x.message_id,
        retry_at = x.retry_at, detail = x.detail, tries = r.tries + 1,
        applied_at = case when x.state = 'waiting' then null else ${at}::timestamptz end
      from json_to_recordset(${
    json(rows.map((r) => ({
      id: r.id,
      state: r.state,
      kind: r.kind,
      message_id: r.messageId,
      retry_at: r.retryAt,
      detail: r.detail ?? null,
    })))
  }::json) as x(id bigint, state text, kind text, message_id bigint, retry_at timestamptz,
        detail jsonb)
      where r.id = x.id`;

/** Reports by state, with the oldest of each (operators' view). */
export const emailReportCounts = (): SQL =>
  sql`select state, coalesce(kind, '') as kind, count(*)::int as count,
        min(received_at) as oldest
      from email_reports group by state, kind order by state, kind`;

/** Reports of a state, newest first, from a cursor (an id), without their raw bytes. */
export const emailReportsPage = (state: string, before: number | null, limit: number): SQL =>
  sql`select id::float8 as id, source, received_at as "receivedAt", envelope_from as "envelopeFrom",
        envelope_to as "envelopeTo", origin, size, state, kind, message_id::float8 as "messageId",
        tries, applied_at as "appliedAt", detail
      from email_reports
      where state = ${state} and (${before}::bigint is null or id < ${before}::bigint)
      order by id desc limit ${limit}`;
