import { FailureType } from "./failure.ts";
import type { RetryMode } from "./qualification/types.ts";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * When failed messages are tried again (DOMAIN §5). `steps` run in order: the default is five
 * retries an hour apart, then one a day for four days. `backoff` paces retries of a busy provider
 * (SMPP throttling, queue full): quick, growing, and not taken from the scheduled retries.
 */
export interface RetryPolicy {
  readonly steps: readonly { readonly count: number; readonly intervalMs: number }[];
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

export const defaultRetryPolicy: RetryPolicy = {
  steps: [{ count: 5, intervalMs: HOUR }, { count: 4, intervalMs: DAY }],
  backoff: { initialMs: 1_000, maxMs: 5 * MINUTE },
};

/** The interval before scheduled retry `n` (1-based), or null once the schedule is used up. */
export function scheduledInterval(policy: RetryPolicy, n: number): number | null {
  let left = n;
  for (const step of policy.steps) {
    if (left <= step.count) return step.intervalMs;
    left -= step.count;
  }
  return null;
}

export function totalScheduledRetries(policy: RetryPolicy): number {
  return policy.steps.reduce((sum, step) => sum + step.count, 0);
}

export interface RetryInput {
  type: FailureType;
  mode: RetryMode;
  /** Retry-After the provider asked for (push 429). */
  retryAfterMs?: number;
  /** Scheduled retries this message has used so far. */
  scheduledUsed: number;
  /** Back-off retries in a row since the last scheduled one. */
  backoffsInARow: number;
  now: number;
  /** End of the delivery's validity period (epoch ms): no retry goes past it. */
  validUntil: number;
}

export type RetryDecision =
  | { at: number; kind: "scheduled" | "backoff" }
  | null;

/** When to try again, or null: hard, never-retry, schedule used up, or past the validity period. */
export function nextRetryAt(policy: RetryPolicy, input: RetryInput): RetryDecision {
  if (input.type === FailureType.hard || input.mode === "never") return null;
  const wait = input.retryAfterMs ?? 0;
  let decision: RetryDecision;
  if (input.mode === "backoff") {
    const exp = Math.min(input.backoffsInARow, 30);
    const delay = Math.min(policy.backoff.initialMs * 2 ** exp, policy.backoff.maxMs);
    decision = { at: input.now + Math.max(delay, wait), kind: "backoff" };
  } else {
    const interval = scheduledInterval(policy, input.scheduledUsed + 1);
    if (interval === null) return null;
    decision = { at: input.now + Math.max(interval, wait), kind: "scheduled" };
  }
  return decision.at <= input.validUntil ? decision : null;
}

/** Why a policy is unusable, or null (per-delivery overrides are checked with this). */
export function retryPolicyError(policy: RetryPolicy): string | null {
  for (const [i, step] of policy.steps.entries()) {
    if (!Number.isInteger(step.count) || step.count < 0) {
      return `steps[${i}].count must be a whole number ≥ 0`;
    }
    if (!(step.intervalMs > 0)) return `steps[${i}].intervalMs must be > 0`;
  }
  if (!(policy.backoff.initialMs > 0)) return "backoff.initialMs must be > 0";
  if (policy.backoff.maxMs < policy.backoff.initialMs) {
    return "backoff.maxMs must be ≥ backoff.initialMs";
  }
  return null;
}
