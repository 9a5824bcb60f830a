import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DAY,
  defaultRetryPolicy,
  HOUR,
  nextRetryAt,
  type RetryPolicy,
  retryPolicyError,
  totalScheduledRetries,
} from "./retry.ts";

const base = {
  type: "soft" as const,
  mode: "schedule" as const,
  scheduledUsed: 0,
  backoffsInARow: 0,
  now: 0,
  validUntil: 30 * DAY,
};

/** Every retry time of one message that keeps failing, each failure right at its retry time. */
function timeline(policy: RetryPolicy, validUntil: number, now = 0): number[] {
  const times: number[] = [];
  for (let used = 0;; used++) {
    const next = nextRetryAt(policy, {
      ...base,
      scheduledUsed: used,
      now: times.at(-1) ?? now,
      validUntil,
    });
    if (!next) return times;
    times.push(next.at);
  }
}

describe("retry schedule", () => {
  it("defaults to 5 × 1 h then 4 × 1 day", () => {
    expect(timeline(defaultRetryPolicy, 30 * DAY)).toEqual([
      1 * HOUR,
      2 * HOUR,
      3 * HOUR,
      4 * HOUR,
      5 * HOUR,
      5 * HOUR + 1 * DAY,
      5 * HOUR + 2 * DAY,
      5 * HOUR + 3 * DAY,
      5 * HOUR + 4 * DAY,
    ]);
  });

  it("stops at the end of the validity period", () => {
    expect(timeline(defaultRetryPolicy, 3.5 * HOUR)).toEqual([HOUR, 2 * HOUR, 3 * HOUR]);
  });

  it("retries soft, ignored and undefined failures, never hard or never-retry ones", () => {
    for (const type of ["soft", "ignored", "undefined"] as const) {
      expect(nextRetryAt(defaultRetryPolicy, { ...base, type })).toEqual({
        at: HOUR,
        kind: "scheduled",
      });
    }
    expect(nextRetryAt(defaultRetryPolicy, { ...base, type: "hard" })).toBeNull();
    expect(nextRetryAt(defaultRetryPolicy, { ...base, mode: "never" })).toBeNull();
  });

  it("backs off quickly from a busy provider without using the schedule", () => {
    const at = (n: number) =>
      nextRetryAt(defaultRetryPolicy, { ...base, mode: "backoff", backoffsInARow: n })?.at;
    expect([0, 1, 2, 3].map(at)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(at(40)).toBe(5 * 60_000);
  });

  it("waits at least the Retry-After asked for", () => {
    expect(nextRetryAt(defaultRetryPolicy, { ...base, retryAfterMs: 2 * HOUR })?.at).toBe(2 * HOUR);
  });

  it("takes per-delivery overrides and checks them", () => {
    const policy: RetryPolicy = {
      steps: [{ count: 2, intervalMs: 10 * 60_000 }],
      backoff: defaultRetryPolicy.backoff,
    };
    expect(timeline(policy, DAY)).toEqual([600_000, 1_200_000]);
    expect(retryPolicyError({ ...policy, steps: [{ count: -1, intervalMs: 1 }] })).toMatch(/count/);
    expect(retryPolicyError(policy)).toBeNull();
  });

  const policy = fc.record({
    steps: fc.array(
      fc.record({
        count: fc.integer({ min: 0, max: 6 }),
        intervalMs: fc.integer({ min: 1, max: 10 * DAY }),
      }),
      { maxLength: 4 },
    ),
    backoff: fc.constant(defaultRetryPolicy.backoff),
  });

  it("is increasing and never past validity, and uses at most the scheduled count", () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 0, max: 60 * DAY }),
        fc.integer({ min: 0, max: DAY }),
        (p, validity, now) => {
          const times = timeline(p, now + validity, now);
          let previous = now;
          for (const t of times) {
            expect(t).toBeGreaterThan(previous);
            expect(t).toBeLessThanOrEqual(now + validity);
            previous = t;
          }
          expect(times.length).toBeLessThanOrEqual(totalScheduledRetries(p));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
