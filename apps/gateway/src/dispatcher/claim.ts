import {
  type DomainFlowState,
  type DomainRule,
  newDomainFlowState,
  resolveDomainRule,
  takeSendSlot,
} from "@sendgate/core";
import { type Database, type DomainFlowRow, execute, plans } from "@sendgate/db";
import { decide, persist, stateOf, writeCounters } from "../services/transitions.ts";
import { flowRow, flowState } from "./outcomes.ts";
import type { ClaimedMessage, RunningDelivery } from "./types.ts";

export interface ClaimOptions {
  /** This dispatcher's id (`claimed_by`). */
  claimer: string;
  limit: number;
  leaseMs: number;
  now: number;
  domainRules: readonly DomainRule[];
}

/**
 * Claims up to `limit` messages from `deliveries`, in their order (priority first), in one
 * transaction: candidates are locked with SKIP LOCKED (two dispatchers never claim one message),
 * email candidates take a send slot of their domain's flow state, shared by the cluster
 * (`takeSendSlot`: the domain's rate, its suspension) — a candidate without a slot is left as it
 * was, and unlocked at commit — and each claim is the core's `claimed` event, stored with its
 * lease. Domains found closed are returned, so that the next deliveries of this tick skip them.
 */
export async function claimBatch(
  database: Database,
  deliveries: readonly RunningDelivery[],
  options: ClaimOptions,
): Promise<ClaimedMessage[]> {
  if (deliveries.length === 0) return [];
  const at = new Date(options.now).toISOString();
  return await database.db.transaction(async (tx) => {
    const claimed: ClaimedMessage[] = [];
    const flows = new Map<string, { state: DomainFlowState; changed: boolean }>();
    for (const delivery of deliveries) {
      const room = options.limit - claimed.length;
      if (room <= 0) break;
      const candidates = (await execute<ClaimedMessage>(
        tx,
        plans.claimCandidates(delivery.id, at, room),
      )).slice(0, room);
      if (candidates.length === 0) continue;
      if (delivery.channel !== "email") {
        claimed.push(...candidates);
        continue;
      }
      const domains = [...new Set(candidates.flatMap((c) => (c.domain ? [c.domain] : [])))]
        .filter((d) => !flows.has(d));
      if (domains.length) {
        // Only a domain with a rate has slots to take, so only those are locked; the others are
        // read for a suspension (the outcomes write their statistics, under their own lock).
        const limited = domains.filter((d) => resolveDomainRule(options.domainRules, d).rate);
        const open = domains.filter((d) => !limited.includes(d));
        const rows = [
          ...(limited.length
            ? await execute<DomainFlowRow>(tx, plans.lockDomainFlow(limited))
            : []),
          ...(open.length ? await execute<DomainFlowRow>(tx, plans.readDomainFlow(open)) : []),
        ];
        const known = new Map(rows.map((r) => [r.domain, flowState(r)]));
        for (const d of domains) {
          flows.set(d, { state: known.get(d) ?? newDomainFlowState(options.now), changed: false });
        }
      }
      for (const c of candidates) {
        if (!c.domain) {
          claimed.push(c);
          continue;
        }
        const flow = flows.get(c.domain)!;
        const rule = resolveDomainRule(options.domainRules, c.domain);
        // Without a rate, only a suspension can close the domain: no slot to count.
        if (!rule.rate) {
          if (flow.state.suspendedUntil !== null && options.now < flow.state.suspendedUntil) {
            continue;
          }
          claimed.push(c);
          continue;
        }
        const slot = takeSendSlot(flow.state, rule, options.now);
        flow.state = slot.state;
        if (!slot.ok) continue;
        flow.changed = true;
        claimed.push(c);
      }
    }
    if (claimed.length === 0) return [];
    const decisions = claimed.map((m) =>
      decide(m, { type: "claimed", attempt: stateOf(m).attempt })
    );
    const hold = {
      claimer: options.claimer,
      leaseUntil: new Date(options.now + options.leaseMs).toISOString(),
    };
    // The lease is written with the claimed state; only a message whose state the claim leaves as
    // it was (an expired claim taken over) has its lease written on its own.
    const deltas = await persist(tx, decisions, options.now, { keepClaim: () => true, hold });
    const unchanged = decisions.filter((d) => !d.changed).map((d) => d.row.id);
    if (unchanged.length) {
      await execute(tx, plans.holdClaims(unchanged, hold.claimer, hold.leaseUntil));
    }
    const changed = [...flows].filter(([, f]) => f.changed);
    if (changed.length) {
      await execute(
        tx,
        plans.writeDomainFlow(
          changed.map(([domain, f]) => ({
            ...flowRow(domain, f.state),
            suspendedRate: null,
            suspendedResults: null,
          })),
          at,
        ),
      );
    }
    await writeCounters(tx, deltas);
    // The claimed state, as the sender and the outcomes will see it.
    return claimed.map((m, i) => ({
      ...m,
      status: decisions[i]!.state.status,
      machine: decisions[i]!.state,
      attempt: decisions[i]!.state.attempt,
    }));
  });
}
