import { resolveDomainRule } from "@sendgate/core";
import { type deliveries, execute, plans } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import {
  eligibility,
  type LiveSender,
  SENDER_TIMEOUT_MS,
  type WaitReason,
} from "../dispatcher/eligibility.ts";
import type { RunningDelivery } from "../dispatcher/types.ts";
import { loadDomainRules } from "./domain-rules.ts";

type DeliveryRow = typeof deliveries.$inferSelect;

/**
 * Why a delivery's messages still wait (DOMAIN §3), each reason with how many messages it holds
 * and what would unblock it: the delivery's own (scheduled, sending window, paused, concurrency
 * limit, no sender for its affinity or channel) from the dispatcher's own `eligibility`, and the
 * messages' (a retry not yet due, a suspended or rate-limited domain).
 */
export type Waiting =
  | (WaitReason & { count: number })
  | { kind: "retryScheduled"; count: number; nextAt: string }
  | {
    kind: "domainSuspended";
    domain: string;
    count: number;
    until: string;
    errorRate: number | null;
    results: number | null;
  }
  | { kind: "domainRateLimit"; domain: string; count: number; until: string };

const iso = (v: unknown) => new Date(v as string).toISOString();

export async function waitingReasons(
  deps: AppDeps,
  delivery: DeliveryRow,
  pending: number,
): Promise<Waiting[]> {
  if (delivery.state !== "running" || pending === 0) return [];
  const now = deps.now();
  const stamp = new Date(now).toISOString();
  const [running, senders, breakdown] = await Promise.all([
    execute<RunningDelivery>(deps.database, plans.runningDeliveries(1_000)),
    execute<LiveSender>(
      deps.database,
      plans.liveSenders(new Date(now - SENDER_TIMEOUT_MS).toISOString()),
    ),
    execute<{
      domain: string | null;
      count: number;
      retriesLater: number;
      nextRetryAt: string | null;
      suspendedUntil: string | null;
      suspendedRate: number | null;
      suspendedResults: number | null;
      windowStart: string | null;
      sentInWindow: number | null;
    }>(deps.database, plans.pendingBreakdown(delivery.id, stamp)),
  ]);
  const own = eligibility(running, senders, now, deps.maxRunning).waiting.get(delivery.id);
  if (own) return [{ ...own, count: pending }];
  const reasons: Waiting[] = [];
  const retries = breakdown.reduce((n, b) => n + b.retriesLater, 0);
  if (retries > 0) {
    const next = breakdown.flatMap((
      b,
    ) => (b.nextRetryAt ? [new Date(b.nextRetryAt).getTime()] : []));
    reasons.push({
      kind: "retryScheduled",
      count: retries,
      nextAt: new Date(Math.min(...next)).toISOString(),
    });
  }
  const rules = delivery.channel === "email" ? await loadDomainRules(deps.database) : [];
  for (const b of breakdown) {
    if (!b.domain) continue;
    const due = b.count - b.retriesLater;
    if (due <= 0) continue;
    if (b.suspendedUntil && new Date(b.suspendedUntil).getTime() > now) {
      reasons.push({
        kind: "domainSuspended",
        domain: b.domain,
        count: due,
        until: iso(b.suspendedUntil),
        errorRate: b.suspendedRate,
        results: b.suspendedResults,
      });
      continue;
    }
    const rate = resolveDomainRule(rules, b.domain).rate;
    if (rate && b.windowStart && b.sentInWindow !== null && b.sentInWindow >= rate.count) {
      const until = new Date(b.windowStart).getTime() + rate.periodMs;
      if (until > now) {
        reasons.push({
          kind: "domainRateLimit",
          domain: b.domain,
          count: due,
          until: new Date(until).toISOString(),
        });
      }
    }
  }
  return reasons;
}
