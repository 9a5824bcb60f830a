import { HOUR } from "./retry.ts";

/**
 * Domain and MX flow control (DOMAIN §8). A rule names a recipient domain (`example.com`), every
 * sub-domain of one (`*.example.com`), or all (`*`). The most specific rule applies first; what
 * it leaves unset comes from the `*` rule, then from the built-in default.
 */
export interface DomainRule {
  readonly domain: string;
  /** At most `count` messages per `periodMs` to this domain; null: no limit. */
  readonly rate?: { readonly count: number; readonly periodMs: number } | null;
  /**
   * Suspend sending for `durationMs` when, over at least `minMessages` results within one
   * `windowMs`, the error rate reaches `errorRate` (0–1).
   */
  readonly suspension?: {
    readonly minMessages: number;
    readonly errorRate: number;
    readonly durationMs: number;
    readonly windowMs: number;
  } | null;
}

export type EffectiveDomainRule = Required<Omit<DomainRule, "domain">> & {
  readonly matched: readonly string[];
};

export const defaultDomainRule = {
  domain: "*",
  rate: null,
  suspension: { minMessages: 300, errorRate: 0.9, durationMs: 3 * HOUR, windowMs: HOUR },
} as const satisfies DomainRule;

/** How well a rule's pattern fits a domain: higher is more specific; -1 if it does not apply. */
function specificity(pattern: string, domain: string): number {
  const p = pattern.toLowerCase();
  if (p === "*") return 0;
  if (p === domain) return 2 * p.length + 1;
  if (p.startsWith("*.") && domain.endsWith(p.slice(1))) return 2 * p.length;
  return -1;
}

/** The rule in force for a domain (or MX host name). */
export function resolveDomainRule(
  rules: readonly DomainRule[],
  domain: string,
): EffectiveDomainRule {
  const name = domain.toLowerCase().replace(/\.$/u, "");
  const ranked = rules
    .map((rule) => ({ rule, score: specificity(rule.domain, name) }))
    .filter((r) => r.score >= 0)
    .sort((a, b) => b.score - a.score)
    .map((r) => r.rule);
  const chain = [...ranked, defaultDomainRule];
  const pick = <K extends "rate" | "suspension">(key: K) =>
    chain.find((rule) => rule[key] !== undefined)![key] ?? null;
  return {
    rate: pick("rate"),
    suspension: pick("suspension"),
    matched: ranked.map((r) => r.domain),
  };
}

/** Per-domain counters. Kept per gateway process or in the database; pure either way. */
export interface DomainFlowState {
  readonly windowStart: number;
  readonly sentInWindow: number;
  readonly statsStart: number;
  readonly results: number;
  readonly errors: number;
  readonly suspendedUntil: number | null;
}

export function newDomainFlowState(now: number): DomainFlowState {
  return {
    windowStart: now,
    sentInWindow: 0,
    statsStart: now,
    results: 0,
    errors: 0,
    suspendedUntil: null,
  };
}

export type SendDecision =
  | { ok: true; state: DomainFlowState }
  | { ok: false; state: DomainFlowState; why: "suspended" | "rate"; until: number };

/** May one more message go to this domain now? Takes the slot when it may. */
export function takeSendSlot(
  state: DomainFlowState,
  rule: EffectiveDomainRule,
  now: number,
): SendDecision {
  if (state.suspendedUntil !== null && now < state.suspendedUntil) {
    return { ok: false, state, why: "suspended", until: state.suspendedUntil };
  }
  let s = state.suspendedUntil !== null ? { ...state, suspendedUntil: null } : state;
  if (rule.rate) {
    if (now >= s.windowStart + rule.rate.periodMs) s = { ...s, windowStart: now, sentInWindow: 0 };
    if (s.sentInWindow >= rule.rate.count) {
      return { ok: false, state: s, why: "rate", until: s.windowStart + rule.rate.periodMs };
    }
  }
  return { ok: true, state: { ...s, sentInWindow: s.sentInWindow + 1 } };
}

export interface ResultRecord {
  state: DomainFlowState;
  /** Set when this result suspended the domain: until when. */
  suspendedUntil?: number;
}

/** Records the outcome of one message to the domain; may suspend it (DOMAIN §8). */
export function recordDomainResult(
  state: DomainFlowState,
  rule: EffectiveDomainRule,
  now: number,
  error: boolean,
): ResultRecord {
  const sus = rule.suspension;
  if (!sus) return { state };
  let s = now >= state.statsStart + sus.windowMs
    ? { ...state, statsStart: now, results: 0, errors: 0 }
    : state;
  s = { ...s, results: s.results + 1, errors: s.errors + (error ? 1 : 0) };
  if (s.results >= sus.minMessages && s.errors / s.results >= sus.errorRate) {
    const until = now + sus.durationMs;
    return {
      state: { ...s, suspendedUntil: until, statsStart: until, results: 0, errors: 0 },
      suspendedUntil: until,
    };
  }
  return { state: s };
}
