import { describe, expect, it } from "vitest";
import {
  effectiveFailure,
  MAX_OCCURRENCES,
  type QualificationEntry,
  recordOccurrence,
} from "./entry.ts";
import type { FailureVerdict, Qualification } from "./types.ts";

const verdict = (over: Partial<FailureVerdict> = {}): FailureVerdict => ({
  outcome: "failure",
  type: "soft",
  reason: 3,
  retry: "schedule",
  ruleId: null,
  source: "class",
  toQualify: true,
  ...over,
});
const q = (text: string, v = verdict()): Qualification & { verdict: FailureVerdict } => ({
  verdict: v,
  text,
  normalized: "554 norm",
});

describe("qualification entries", () => {
  it("keeps the first text and counts occurrences", () => {
    const first = recordOccurrence(null, "email", q("554 first id 1"), 10);
    expect(first).toMatchObject({
      firstText: "554 first id 1",
      normalizedText: "554 norm",
      count: 1,
      status: "toQualify",
      firstSeenAt: 10,
    });
    const second = recordOccurrence(first, "email", q("554 second id 2"), 20);
    expect(second).toMatchObject({
      firstText: "554 first id 1",
      count: 2,
      firstSeenAt: 10,
      lastSeenAt: 20,
    });
  });

  it("caps occurrences at 100,000", () => {
    const full: QualificationEntry = {
      ...recordOccurrence(null, "email", q("x"), 0),
      count: MAX_OCCURRENCES,
    };
    expect(recordOccurrence(full, "email", q("x"), 1).count).toBe(MAX_OCCURRENCES);
  });

  it("starts as keep when a rule decided", () => {
    expect(
      recordOccurrence(
        null,
        "email",
        q("x", verdict({ toQualify: false, source: "rule", ruleId: "r" })),
        0,
      ).status,
    ).toBe("keep");
  });

  it("lets a to-qualify entry take a later confident verdict, never overrides an operator's", () => {
    const open = recordOccurrence(null, "email", q("x"), 0);
    const ruled = recordOccurrence(
      open,
      "email",
      q("x", verdict({ type: "hard", reason: 1, toQualify: false, ruleId: "r" })),
      1,
    );
    expect(ruled).toMatchObject({ status: "keep", type: "hard", reason: 1, ruleId: "r" });
    const operator: QualificationEntry = { ...open, status: "ignore", type: "ignored", reason: 3 };
    expect(
      recordOccurrence(
        operator,
        "email",
        q("x", verdict({ type: "hard", reason: 1, toQualify: false })),
        1,
      ),
    )
      .toMatchObject({ status: "ignore", type: "ignored", reason: 3 });
  });

  it("makes a qualified entry win over the rules, and ignore never quarantine", () => {
    const v = verdict({ type: "hard", reason: 1 });
    expect(effectiveFailure(null, v)).toEqual({ type: "hard", reason: 1, ignoreText: false });
    const open = recordOccurrence(null, "email", q("x"), 0);
    expect(effectiveFailure(open, v)).toEqual({ type: "hard", reason: 1, ignoreText: false });
    expect(effectiveFailure({ ...open, status: "keep", type: "soft", reason: 20 }, v)).toEqual({
      type: "soft",
      reason: 20,
      ignoreText: false,
    });
    expect(effectiveFailure({ ...open, status: "ignore" }, v)).toMatchObject({ ignoreText: true });
  });
});
