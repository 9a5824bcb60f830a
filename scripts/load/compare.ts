/**
 * The load runner's verdict: each message the gateway accepted, as the gateway reports it,
 * against what the simulator's ledger says happened to it and what DOMAIN §10 implies for that.
 * Pure: no I/O, so that the rules of the verdict are tested on their own.
 */

/** A message as `GET /v1/deliveries/{id}/messages` gives it, with its delivery's channel. */
export interface GatewayMessage {
  id: string;
  channel: "email" | "push" | "sms";
  address: string | null;
  status: string;
  failureType: string | null;
  reason: number | null;
  attempt: number;
  createdAt: string;
  updatedAt: string;
}

/** What the verdict needs of a simulator ledger entry. */
export interface LedgerRecord {
  seq: number;
  channel: string;
  recipient: string;
  outcome: string;
  sync: { smtp?: { code: number }; http?: number; commandStatus?: number; none?: string };
  async?: { kind: string } | undefined;
  expected: { status: string; type?: string; reason?: number; retried: boolean };
}

/** Statuses a message leaves on its own (an SMS taken into account also waits for its receipt). */
const UNSETTLED = new Set(["pending", "prepared", "sentToProvider"]);
/** The remote took the message (2xx, submit_sm_resp 0): a second such copy is a duplicate. */
const taken = ({ sync }: LedgerRecord) =>
  (sync.smtp !== undefined && sync.smtp.code >= 200 && sync.smtp.code < 300) ||
  (sync.http !== undefined && sync.http >= 200 && sync.http < 300) ||
  sync.commandStatus === 0;

export interface Problem {
  messageId: string;
  address: string | null;
  kind: "lost" | "mismatched";
  detail: string;
}

export interface Verdict {
  messages: number;
  settled: number;
  /** Accepted and never settled, or settled as sent with no copy in the ledger. */
  lost: number;
  /** Settled with a status, type or reason other than the ledger's last answer implies. */
  mismatched: number;
  /**
   * Copies the remote took after one it had taken for good (the recipient got the message twice);
   * a retry after a failure reported later (an SMS receipt) is no duplicate.
   */
  duplicates: number;
  /** Settled messages by `status[/type/reason]`. */
  distribution: Record<string, number>;
  /** The first problems found (at most `examples`), to start a diagnosis from. */
  problems: Problem[];
}

/**
 * One key of the distribution: `failed/soft/5`, `ignored/ignored/3`, `sent`, or
 * `sent after soft/5` for a message taken on a retry (the gateway keeps the most telling failure
 * of its attempts beside its status).
 */
export const outcomeKey = (m: Pick<GatewayMessage, "status" | "failureType" | "reason">) =>
  !m.failureType
    ? m.status
    : m.status === "failed" || m.status === "ignored"
    ? `${m.status}/${m.failureType}/${m.reason}`
    : `${m.status} after ${m.failureType}/${m.reason}`;

/** What the verdict compares: the status, and the type and reason of a failure. */
const verdictKey = (status: string, type: string | null | undefined, reason: unknown) =>
  (status === "failed" || status === "ignored") && type ? `${status}/${type}/${reason}` : status;

/**
 * Compares the gateway's messages with the ledger's entries (matched by channel and recipient:
 * the runner gives every message of a run its own address). The last entry is the last answer the
 * gateway got; a message settled as failed must carry that answer's type and reason, one settled
 * as sent must have been taken. Entries for recipients the run does not know are ignored.
 */
export function compare(
  messages: readonly GatewayMessage[],
  ledger: readonly LedgerRecord[],
  options: { examples?: number } = {},
): Verdict {
  const examples = options.examples ?? 20;
  const entries = new Map<string, LedgerRecord[]>();
  for (const e of [...ledger].sort((a, b) => a.seq - b.seq)) {
    const key = `${e.channel}\n${e.recipient}`;
    const list = entries.get(key);
    if (list) list.push(e);
    else entries.set(key, [e]);
  }
  const verdict: Verdict = {
    messages: messages.length,
    settled: 0,
    lost: 0,
    mismatched: 0,
    duplicates: 0,
    distribution: {},
    problems: [],
  };
  const problem = (m: GatewayMessage, kind: Problem["kind"], detail: string) => {
    verdict[kind]++;
    if (verdict.problems.length < examples) {
      verdict.problems.push({ messageId: m.id, address: m.address, kind, detail });
    }
  };
  for (const m of messages) {
    const mine = entries.get(`${m.channel}\n${m.address}`) ?? [];
    const copies = mine.filter(taken).length;
    // A copy is a duplicate when an earlier copy was taken for good; after one that a later
    // report failed (an SMS receipt EXPIRED, UNDELIV …), the next attempt is the retry it asked for.
    let good = false;
    for (const e of mine) {
      if (!taken(e)) continue;
      if (good) verdict.duplicates++;
      if (["sent", "receivedOnMobile", "takenIntoAccount"].includes(e.expected.status)) good = true;
    }
    if (UNSETTLED.has(m.status)) {
      problem(m, "lost", `still ${m.status} after attempt ${m.attempt}`);
      continue;
    }
    // An SMS the provider took waits for its receipt, unless the ledger says none will come.
    if (m.status === "takenIntoAccount" && mine.at(-1)?.expected.status !== "takenIntoAccount") {
      problem(m, "lost", `still takenIntoAccount: no receipt applied after attempt ${m.attempt}`);
      continue;
    }
    verdict.settled++;
    const key = outcomeKey(m);
    verdict.distribution[key] = (verdict.distribution[key] ?? 0) + 1;
    if (m.status === "cancelled") continue;
    if ((m.status === "sent" || m.status === "receivedOnMobile") && copies === 0) {
      problem(m, "lost", `${m.status}, but the simulator never took it`);
      continue;
    }
    const last = mine.at(-1);
    if (!last) {
      problem(m, "mismatched", `${key} without reaching the simulator`);
      continue;
    }
    const want = last.expected;
    const wanted = verdictKey(want.status, want.type, want.reason);
    if (verdictKey(m.status, m.failureType, m.reason) !== wanted) {
      problem(m, "mismatched", `${key}, but the last answer (${last.outcome}) implies ${wanted}`);
    }
  }
  return verdict;
}

/** The p-th percentile (0–1) of sorted numbers; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
