import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Channel,
  type CompiledRules,
  compileRules,
  type DomainRule,
  type ReceiptIdFormat,
} from "@sendgate/core";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "@sendgate/channels";
import { type Database, execute, plans } from "@sendgate/db";
import { errorFields, type Logger, sqlErrorOf } from "../log.ts";
import { loadDomainRules } from "../services/domain-rules.ts";
import { loadRuleSet } from "../services/rules.ts";
import { applyReports } from "../services/sms-reports.ts";
import { applyEmailReports } from "../services/email-reports.ts";
import { decide, persist, type StoredMessage, writeCounters } from "../services/transitions.ts";
import { claimBatch } from "./claim.ts";
import {
  type Eligibility,
  eligibility,
  type LiveSender,
  SENDER_TIMEOUT_MS,
  served,
} from "./eligibility.ts";
import { applyOutcomes, closeDeliveries } from "./outcomes.ts";
import type { ClaimedMessage, RunningDelivery } from "./types.ts";

export interface ChannelPlan {
  adapter: ChannelAdapter;
  /** Batches in flight at once (each claims, sends, applies). */
  workers: number;
  batchSize: number;
  /**
   * Since when the channel cannot send (SMS: no provider has a bind up), or null when it can:
   * its deliveries wait, saying so, instead of claiming messages that would fail.
   */
  down?: () => number | null;
  /**
   * Connections the remote allows for the whole cluster (SMS binds per provider): the dispatcher
   * leases slots in the database at each heartbeat and tells the adapter how many it holds.
   */
  bindLeases?: {
    providers: () => readonly { id: string; binds: number }[];
    setBinds: (provider: string, binds: number) => void;
  };
}

export interface DispatcherOptions {
  database: Database;
  logger: Logger;
  /** The channels this process sends, built from the channel settings; re-read every tick. */
  channels: () => ReadonlyMap<Channel, ChannelPlan>;
  /** Named sender pools served (deliveries without an affinity are served by every dispatcher). */
  affinities?: readonly string[];
  /** Deliveries allowed to send at once, cluster-wide (DOMAIN §3). */
  maxRunning?: number;
  leaseMs?: number;
  /** How long an idle worker waits before looking again. */
  idleMs?: number;
  now?: () => number;
  /** How an SMS provider renders message ids in its receipts (for `applyReports`). */
  receiptIdFormat?: (provider: string) => ReceiptIdFormat;
}

const HEARTBEAT_MS = 5_000;
const REFRESH_MS = 5_000;
/** Reports applied per transaction. */
const REPORT_BATCH = 500;
/** A bind slot's lease, renewed at each heartbeat: a dead process's binds free up after it. */
const BIND_LEASE_MS = 20_000;

export interface RunningDispatcher {
  id: string;
  stop(): Promise<void>;
}

/**
 * The dispatcher: per configured channel, `workers` loops that claim a batch of messages (the
 * deliveries' turn order, their schedule, window, the concurrency limit, affinities and domain
 * rates decided by `eligibility` and `claimBatch`), hand it to the channel's adapter, and apply
 * the outcomes through the core (`applyOutcomes`). Beside them: a heartbeat in `senders`, the
 * validity expiry, and a refresh of the rules. A dispatcher that dies leaves its claims to expire
 * (their lease) and be claimed again; at most its batches in flight may go twice.
 */
export function startDispatcher(options: DispatcherOptions): RunningDispatcher {
  const { database, logger } = options;
  const now = options.now ?? Date.now;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const affinities = new Set(options.affinities ?? []);
  const maxRunning = options.maxRunning ?? 10;
  const leaseMs = options.leaseMs ?? 60_000;
  const idleMs = options.idleMs ?? 200;
  let stopped = false;
  let rules: CompiledRules | null = null;
  let domainRules: readonly DomainRule[] = [];
  let rulesAt = 0;
  let plan: { at: number; value: Promise<Eligibility> } | null = null;
  const loops: Promise<void>[] = [];
  const workersOf = new Map<Channel, number>();

  const refreshRules = async () => {
    if (rules && now() - rulesAt < REFRESH_MS) return;
    const [set, domains] = await Promise.all([loadRuleSet(database), loadDomainRules(database)]);
    rules = compileRules(set);
    domainRules = domains;
    rulesAt = now();
  };

  /** Channels configured here that cannot send, with since when. */
  const down = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [channel, p] of options.channels()) {
      const since = p.down?.();
      if (since != null) out[channel] = new Date(since).toISOString();
    }
    return out;
  };

  const heartbeat = async () => {
    await execute(
      database,
      plans.heartbeat({
        id,
        hostname: hostname(),
        pid: process.pid,
        affinities: [...affinities],
        channels: [...options.channels().keys()],
        down: down(),
      }, new Date(now()).toISOString()),
    );
  };

  /** Who may send now, shared by the workers for a moment (one query per tick, not per worker). */
  const eligible = (): Promise<Eligibility> => {
    if (plan && now() - plan.at < idleMs) return plan.value;
    const value = (async () => {
      const [running, senders] = await Promise.all([
        execute<RunningDelivery>(database, plans.runningDeliveries(1_000)),
        execute<LiveSender>(
          database,
          plans.liveSenders(new Date(now() - SENDER_TIMEOUT_MS).toISOString()),
        ),
      ]);
      // This process counts as live from its first tick, before its heartbeat lands.
      const self = {
        id,
        channels: [...options.channels().keys()],
        affinities: [...affinities],
        down: down(),
      };
      return eligibility(running, [...senders.filter((s) => s.id !== id), self], now(), maxRunning);
    })();
    plan = { at: now(), value };
    value.catch(() => (plan = null));
    return value;
  };

  const outgoing = (m: ClaimedMessage, d: RunningDelivery): OutgoingMessage => ({
    id: m.id,
    deliveryId: m.deliveryId,
    instanceId: d.instanceId,
    attempt: m.attempt,
    externalId: m.externalId,
    address: m.address ?? "",
    addressData: m.addressData,
    fields: m.fields,
    content: d.content,
  });

  /** One batch: claim, send, apply. Resolves with how many messages it handled. */
  const round = async (channel: Channel, channelPlan: ChannelPlan): Promise<number> => {
    await refreshRules();
    const mine = served((await eligible()).active, {
      channels: new Set([channel]),
      affinities,
    });
    if (mine.length === 0) return 0;
    if (channelPlan.down?.() != null) return 0;
    const batch = await claimBatch(database, mine, {
      claimer: id,
      limit: channelPlan.batchSize,
      leaseMs,
      now: now(),
      domainRules,
    });
    if (batch.length === 0) return 0;
    {
      const byId = new Map(mine.map((d) => [d.id, d]));
      let outcomes: SendOutcome[];
      // A batch that takes longer than a third of its lease renews it: another dispatcher must
      // not take messages this one is still sending (it would send them twice).
      const ids = batch.map((m) => m.id);
      const renew = setInterval(() => {
        execute(
          database,
          plans.renewClaims(ids, id, new Date(now() + leaseMs).toISOString()),
        ).catch((e) => logger.warn(errorFields(e), "renewing a batch's lease failed"));
      }, Math.max(50, Math.floor(leaseMs / 3)));
      try {
        outcomes = await channelPlan.adapter.send(
          batch.map((m) => outgoing(m, byId.get(m.deliveryId)!)),
        );
      } catch (error) {
        // The adapter itself broke (never a message's fate): the batch is a transport failure,
        // retried as DOMAIN §10 says for connection trouble.
        logger.error({ channel, ...errorFields(error) }, "channel adapter failed a batch");
        outcomes = batch.map(() => ({
          kind: "transport",
          input: { channel, kind: "network", code: "EADAPTER", text: "the channel adapter failed" },
        }));
      }
      // Renewed until the outcomes are stored: their transaction may wait for locks (counters,
      // the report loops' message locks) longer than a short lease, and a lease that ran out
      // there let another dispatcher claim the batch and send it again (cluster test: 176
      // duplicates, 3 s lease, once in a few runs).
      let applied;
      try {
        applied = await database.db.transaction((tx) =>
          applyOutcomes(tx, batch, outcomes, byId, { rules: rules!, domainRules, now: now() })
        );
      } finally {
        clearInterval(renew);
      }
      const finished = await closeDeliveries(database, applied, now());
      for (const d of applied.paused) logger.warn({ deliveryId: d }, "delivery paused");
      for (const d of applied.suspended) logger.warn({ domain: d }, "domain suspended");
      // Who may send changed: the next round looks again instead of using the shared plan.
      if (finished.length || applied.paused.length) plan = null;
      return batch.length;
    }
  };

  const worker = async (channel: Channel) => {
    let wait = idleMs;
    while (!stopped) {
      const channelPlan = options.channels().get(channel);
      if (!channelPlan) {
        await sleep(idleMs);
        continue;
      }
      try {
        const handled = await round(channel, channelPlan);
        if (handled > 0) {
          wait = idleMs;
          continue;
        }
      } catch (error) {
        // A lost database connection: the batch's claims expire and go again. A deadlock or a
        // serialization failure is a race another dispatcher won: go again at once.
        const state = sqlErrorOf(error)?.code;
        if (state === "40P01" || state === "40001") {
          logger.debug({ channel, sqlState: state }, "dispatch round lost a race");
          continue;
        }
        logger.error({ channel, ...errorFields(error) }, "dispatch round failed");
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 5 * idleMs);
    }
  };

  /** Messages still waiting when their delivery's validity ended fail (the core's validityExpired). */
  const expire = async () => {
    for (;;) {
      const done = await database.db.transaction(async (tx) => {
        const rows = await execute<StoredMessage & { attempt: number }>(
          tx,
          plans.expiredWaiting(new Date(now()).toISOString(), 1_000),
        );
        if (rows.length === 0) return true;
        const decisions = rows.map((m) =>
          decide(m, { type: "validityExpired", attempt: m.attempt })
        );
        await writeCounters(
          tx,
          await persist(tx, decisions, now(), { text: () => "validity period ended" }),
        );
        return { last: rows.length < 1_000, touched: [...new Set(rows.map((r) => r.deliveryId))] };
      });
      if (done === true) break;
      await closeDeliveries(database, { touched: done.touched, paused: [] }, now());
      if (done.last) break;
    }
    // A delivery finished in the instant a part added messages to it (the finishing statement's
    // snapshot predates the part): running again, so that nothing it holds is left waiting.
    const reopened = await execute<{ id: string }>(
      database,
      plans.reopenWaiting(new Date(now() - 10 * 60_000).toISOString()),
    );
    if (reopened.length) {
      logger.warn({ deliveries: reopened.map((r) => r.id) }, "finished deliveries reopened");
      plan = null;
    }
  };

  /**
   * Delivery reports (SMS receipts, provider callbacks) applied as they are stored, by every
   * dispatcher (they share the work with SKIP LOCKED): a report may come in through any process.
   */
  const reports = async () => {
    let wait = idleMs;
    while (!stopped) {
      try {
        await refreshRules();
        const done = await applyReports(database, {
          rules: rules!,
          domainRules,
          now: now(),
          ...(options.receiptIdFormat ? { idFormat: options.receiptIdFormat } : {}),
        }, REPORT_BATCH);
        if (done.touched.length) plan = null;
        if (done.applied + done.waiting >= REPORT_BATCH) {
          wait = idleMs;
          continue;
        }
      } catch (error) {
        const state = sqlErrorOf(error)?.code;
        if (state !== "40P01" && state !== "40001") {
          logger.error(errorFields(error), "applying delivery reports failed");
        }
      }
      await Promise.race([sleep(wait), stopping]);
      wait = Math.min(wait * 2, 5 * idleMs);
    }
  };

  /**
   * Email reports (bounces, auto-replies, complaints) stored by the bounce listener or the
   * importer, applied by every dispatcher as they come (SKIP LOCKED shares them).
   */
  const bounces = async () => {
    let wait = idleMs;
    while (!stopped) {
      try {
        await refreshRules();
        const done = await applyEmailReports(database, { rules: rules!, domainRules, now: now() });
        if (done.touched.length) plan = null;
        if (done.applied + done.unmatched + done.ignored > 0) {
          wait = idleMs;
          continue;
        }
      } catch (error) {
        const state = sqlErrorOf(error)?.code;
        if (state !== "40P01" && state !== "40001") {
          logger.error(errorFields(error), "applying email reports failed");
        }
      }
      await Promise.race([sleep(wait), stopping]);
      wait = Math.min(wait * 2, 5 * idleMs);
    }
  };

  /** Lease each provider's bind slots: an even share of what the provider allows, at most. */
  const heldUntil = new Map<string, number>();
  const leaseBinds = async (leases: NonNullable<ChannelPlan["bindLeases"]>, live: number) => {
    const until = now() + BIND_LEASE_MS;
    for (const provider of leases.providers()) {
      try {
        const held = await database.db.transaction(async (tx) => {
          const rows = await execute<{ slot: number; holder: string; leaseUntil: string }>(
            tx,
            plans.lockBindSlots(provider.id),
          );
          const share = Math.ceil(provider.binds / Math.max(1, live));
          const mine = rows.filter((r) => r.holder === id && r.slot < provider.binds)
            .map((r) => r.slot);
          const taken = new Set(
            rows.filter((r) => r.holder !== id && new Date(r.leaseUntil).getTime() > now())
              .map((r) => r.slot),
          );
          const keep = mine.slice(0, share);
          for (let slot = 0; slot < provider.binds && keep.length < share; slot++) {
            if (!taken.has(slot) && !keep.includes(slot)) keep.push(slot);
          }
          const release = rows.filter((r) => r.holder === id && !keep.includes(r.slot))
            .map((r) => r.slot);
          await execute(
            tx,
            plans.writeBindSlots(
              provider.id,
              id,
              keep,
              release,
              new Date(until).toISOString(),
            ),
          );
          return keep.length;
        });
        heldUntil.set(provider.id, until);
        leases.setBinds(provider.id, held);
      } catch (error) {
        logger.error({ provider: provider.id, ...errorFields(error) }, "leasing SMS binds failed");
        // Past the lease another process may hold the slots: close ours rather than exceed.
        if ((heldUntil.get(provider.id) ?? 0) < now() + HEARTBEAT_MS) {
          leases.setBinds(provider.id, 0);
        }
      }
    }
  };

  const housekeeping = async () => {
    while (!stopped) {
      try {
        await heartbeat();
        const leasing = [...options.channels().values()].flatMap((p) =>
          p.bindLeases ? [p.bindLeases] : []
        );
        if (leasing.length) {
          const live = await execute<LiveSender>(
            database,
            plans.liveSenders(new Date(now() - SENDER_TIMEOUT_MS).toISOString()),
          );
          const smsSenders = live.filter((s) => s.id === id || s.channels.includes("sms")).length;
          for (const leases of leasing) await leaseBinds(leases, Math.max(1, smsSenders));
        }
        await expire();
        // A channel configured since the last look gets its workers.
        for (const [channel, p] of options.channels()) {
          const have = workersOf.get(channel) ?? 0;
          for (let i = have; i < p.workers; i++) loops.push(worker(channel));
          workersOf.set(channel, Math.max(have, p.workers));
        }
      } catch (error) {
        logger.error(errorFields(error), "dispatcher housekeeping failed");
      }
      await Promise.race([sleep(HEARTBEAT_MS), stopping]);
    }
  };
  let signalStop: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (signalStop = resolve));
  const keeper = housekeeping();
  // Two report loops per process (they share the stored reports through SKIP LOCKED, and lock
  // messages in id order): one alone applied receipts in series behind its own round trips, and
  // under SMS load they waited for it (claim → received p50 1.6–2.2 s with one loop, 0.43 s with
  // two, `bench/e2e.ts --channels sms --messages 40000`, same throughput).
  const applier = Promise.all([reports(), reports(), bounces()]);

  return {
    id,
    async stop() {
      stopped = true;
      signalStop();
      await keeper;
      await applier;
      await Promise.all(loops);
      await execute(database, plans.releaseBindSlots(id)).catch(() => {});
      await execute(database, plans.forgetSender(id)).catch(() => {});
    },
  };
}
