import { describe, expect, it } from "vitest";
import { HOUR, MINUTE } from "./retry.ts";
import {
  type DomainFlowState,
  newDomainFlowState,
  recordDomainResult,
  resolveDomainRule,
  takeSendSlot,
} from "./flow-control.ts";

describe("domain rules", () => {
  const rules = [
    { domain: "*", rate: { count: 1000, periodMs: HOUR } },
    { domain: "*.example.com", rate: { count: 50, periodMs: MINUTE } },
    { domain: "mx.example.com", suspension: null },
  ];

  it("applies the most specific rule first, then *, then the default", () => {
    const mx = resolveDomainRule(rules, "MX.example.com.");
    expect(mx.rate).toEqual({ count: 50, periodMs: MINUTE });
    expect(mx.suspension).toBeNull();
    expect(mx.matched).toEqual(["mx.example.com", "*.example.com", "*"]);
    const other = resolveDomainRule(rules, "gmail.com");
    expect(other.rate).toEqual({ count: 1000, periodMs: HOUR });
    expect(other.suspension).toEqual({
      minMessages: 300,
      errorRate: 0.9,
      durationMs: 3 * HOUR,
      windowMs: HOUR,
    });
    expect(resolveDomainRule([], "example.org").rate).toBeNull();
  });

  it("does not take example.com.evil for *.example.com", () => {
    expect(resolveDomainRule(rules, "example.com.evil").matched).toEqual(["*"]);
  });
});

describe("flow control", () => {
  const rule = resolveDomainRule(
    [{ domain: "*", rate: { count: 3, periodMs: MINUTE } }],
    "a.example",
  );

  it("lets at most N messages go per period", () => {
    let s: DomainFlowState = newDomainFlowState(0);
    const results: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const d = takeSendSlot(s, rule, 1000);
      results.push(d.ok);
      s = d.state;
    }
    expect(results).toEqual([true, true, true, false]);
    const blocked = takeSendSlot(s, rule, 1000);
    expect(blocked).toMatchObject({ ok: false, why: "rate", until: MINUTE });
    expect(takeSendSlot(s, rule, MINUTE).ok).toBe(true);
  });

  it("suspends a domain for 3 h at ≥ 90 % errors over ≥ 300 messages", () => {
    const r = resolveDomainRule([], "b.example");
    let s = newDomainFlowState(0);
    let suspendedAt: number | undefined;
    for (let i = 0; i < 300 && suspendedAt === undefined; i++) {
      const rec = recordDomainResult(s, r, i, i % 10 !== 0); // 90 % errors
      s = rec.state;
      if (rec.suspendedUntil) suspendedAt = i;
    }
    expect(suspendedAt).toBe(299);
    expect(takeSendSlot(s, r, 300)).toMatchObject({
      ok: false,
      why: "suspended",
      until: 299 + 3 * HOUR,
    });
    expect(takeSendSlot(s, r, 299 + 3 * HOUR).ok).toBe(true);
  });

  it("does not suspend below the threshold or below the minimum count", () => {
    const r = resolveDomainRule([], "c.example");
    let s = newDomainFlowState(0);
    for (let i = 0; i < 1000; i++) {
      const rec = recordDomainResult(s, r, i, i % 10 < 8); // 80 % errors
      expect(rec.suspendedUntil).toBeUndefined();
      s = rec.state;
    }
    let few = newDomainFlowState(0);
    for (let i = 0; i < 299; i++) few = recordDomainResult(few, r, i, true).state;
    expect(few.suspendedUntil).toBeNull();
  });

  it("starts counting afresh each window", () => {
    const r = resolveDomainRule([], "d.example");
    let s = newDomainFlowState(0);
    for (let i = 0; i < 299; i++) s = recordDomainResult(s, r, i, true).state;
    const later = recordDomainResult(s, r, HOUR + 1, true);
    expect(later.suspendedUntil).toBeUndefined();
    expect(later.state.results).toBe(1);
  });
});
