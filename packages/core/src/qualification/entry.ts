import type { Channel } from "../channel.ts";
import type { FailureType, ReasonCode } from "../failure.ts";
import { EntryStatus } from "./types.ts";
import type { FailureVerdict, Qualification } from "./types.ts";

/** Occurrences are counted up to this and no further (DOMAIN §6). */
export const MAX_OCCURRENCES = 100_000;

/** One distinct error in the qualification table, keyed by (channel, normalized text). */
export interface QualificationEntry {
  readonly channel: Channel;
  readonly normalizedText: string;
  /** The first raw text seen; later occurrences never replace it. */
  readonly firstText: string;
  readonly type: FailureType;
  readonly reason: ReasonCode;
  readonly status: EntryStatus;
  readonly ruleId: string | null;
  readonly count: number;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

/** Records one more occurrence of a qualified failure. */
export function recordOccurrence(
  entry: QualificationEntry | null,
  channel: Channel,
  q: Qualification & { verdict: FailureVerdict },
  at: number,
): QualificationEntry {
  const { verdict } = q;
  if (!entry) {
    return {
      channel,
      normalizedText: q.normalized,
      firstText: q.text,
      type: verdict.type,
      reason: verdict.reason,
      status: verdict.toQualify ? EntryStatus.toQualify : EntryStatus.keep,
      ruleId: verdict.ruleId,
      count: 1,
      firstSeenAt: at,
      lastSeenAt: at,
    };
  }
  const counted = {
    ...entry,
    count: Math.min(entry.count + 1, MAX_OCCURRENCES),
    lastSeenAt: Math.max(entry.lastSeenAt, at),
  };
  // A text still waiting for an operator takes a confident qualification when one appears (a
  // rule was added since); a qualified or ignored entry is the operator's and stays as it is.
  if (entry.status === EntryStatus.toQualify && !verdict.toQualify) {
    return {
      ...counted,
      type: verdict.type,
      reason: verdict.reason,
      ruleId: verdict.ruleId,
      status: EntryStatus.keep,
    };
  }
  return counted;
}

/**
 * What a failure finally counts as: a qualified entry (keep or ignore) is the table's word on its
 * text and wins over the rules; `ignoreText` means it must never quarantine the address.
 */
export function effectiveFailure(
  entry: QualificationEntry | null,
  verdict: FailureVerdict,
): { type: FailureType; reason: ReasonCode; ignoreText: boolean } {
  if (!entry || entry.status === EntryStatus.toQualify) {
    return { type: verdict.type, reason: verdict.reason, ignoreText: false };
  }
  return {
    type: entry.type,
    reason: entry.reason,
    ignoreText: entry.status === EntryStatus.ignore,
  };
}
