import type { Expected } from "./outcomes.ts";

/**
 * The ground-truth ledger: for every message the simulator received, what it decided and did,
 * and what the gateway should conclude. Kept in memory (a simulator run is bounded), queryable
 * by correlation id and by sequence, exportable as NDJSON.
 */
export interface LedgerEntry {
  /** Monotonic sequence number (1, 2, …): `GET /ledger?since=N` returns entries after N. */
  seq: number;
  /** The gateway's correlation id (email Message-ID or X-Sendgate-Id; SMS message id; push id). */
  id: string;
  channel: "email" | "sms" | "push";
  recipient: string;
  /** How many times this recipient had been seen before (0 first): part of the random draw. */
  occurrence: number;
  outcome: string;
  /** Magic recipient, scenario mix, or the protocol itself (bad VAPID, too large …). */
  decidedBy: "magic" | "mix" | "protocol" | "subscription";
  receivedAt: string;
  /** The synchronous answer: SMTP code and text, SMPP command_status, or HTTP status. */
  sync: {
    smtp?: { code: number; enhanced?: string; text: string };
    commandStatus?: number;
    http?: number;
    none?: string;
  };
  /** The asynchronous report, when the outcome has one. */
  async?: {
    kind: "bounce" | "autoReply" | "complaint" | "receipt";
    dueAt: string;
    sentAt?: string;
    detail: Record<string, unknown>;
  };
  expected: Expected;
  /** Protocol-specific extras (SMSC message id, envelope sender, parts count …). */
  extra?: Record<string, unknown>;
}

export class Ledger {
  #entries: LedgerEntry[] = [];
  #byId = new Map<string, LedgerEntry[]>();
  #seen = new Map<string, number>();

  /** How many times `channel:recipient` was seen before this call (0 the first time). */
  occurrence(channel: string, recipient: string): number {
    const key = `${channel}:${recipient}`;
    const n = this.#seen.get(key) ?? 0;
    this.#seen.set(key, n + 1);
    return n;
  }

  add(entry: Omit<LedgerEntry, "seq">): LedgerEntry {
    const full = { ...entry, seq: this.#entries.length + 1 } as LedgerEntry;
    this.#entries.push(full);
    const list = this.#byId.get(full.id) ?? [];
    list.push(full);
    this.#byId.set(full.id, list);
    return full;
  }

  /** Records that an entry's asynchronous report went out. */
  markAsyncSent(entry: LedgerEntry, at: Date, detail?: Record<string, unknown>): void {
    if (!entry.async) return;
    entry.async.sentAt = at.toISOString();
    if (detail) Object.assign(entry.async.detail, detail);
  }

  get(id: string): LedgerEntry[] {
    return this.#byId.get(id) ?? [];
  }

  since(seq: number, limit = 1000): LedgerEntry[] {
    return this.#entries.slice(Math.max(0, seq), Math.max(0, seq) + limit);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Counts by channel, outcome and expected status. */
  summary() {
    const counts: Record<
      string,
      {
        total: number;
        byOutcome: Record<string, number>;
        byExpectedStatus: Record<string, number>;
        asyncPending: number;
      }
    > = {};
    for (const e of this.#entries) {
      const c =
        (counts[e.channel] ??= { total: 0, byOutcome: {}, byExpectedStatus: {}, asyncPending: 0 });
      c.total++;
      c.byOutcome[e.outcome] = (c.byOutcome[e.outcome] ?? 0) + 1;
      c.byExpectedStatus[e.expected.status] = (c.byExpectedStatus[e.expected.status] ?? 0) + 1;
      // Reports that will never go out are not pending: undeliverable (no relay configured …),
      // skipped (the sender asked for no receipt), or given up after the last callback attempt.
      const detail: Record<string, unknown> = e.async?.detail ?? {};
      if (
        e.async && !e.async.sentAt && !detail.undeliverable && !detail.skipped && !detail.givenUp
      ) c.asyncPending++;
    }
    return counts;
  }

  *ndjson(): Generator<string> {
    for (const e of this.#entries) yield `${JSON.stringify(e)}\n`;
  }

  clear(): void {
    this.#entries = [];
    this.#byId.clear();
    this.#seen.clear();
  }
}
