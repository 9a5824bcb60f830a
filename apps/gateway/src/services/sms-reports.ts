import {
  AddressStatus,
  type CompiledRules,
  type DomainRule,
  receiptIdCandidates,
  type ReceiptIdFormat,
} from "@sendgate/core";
import {
  type Database,
  execute,
  type NewInboundRow,
  type NewReportRow,
  plans,
  type ReportRow,
} from "@sendgate/db";
import { applyToLocked, closeDeliveries, roundsByMessage } from "../dispatcher/outcomes.ts";
import type { ClaimedMessage, RunningDelivery } from "../dispatcher/types.ts";
import { setStatus } from "./quarantine.ts";

/**
 * SMS delivery reports (SMPP receipts and provider HTTP callbacks) and mobile-originated
 * messages. A report is stored before it is acknowledged (the SMPP bind answers deliver_sm_resp,
 * the callback its 200, only once `storeReports` resolved), then applied to its message through
 * the core in batches (`applyReports`): the receipt's stat and err qualified as DOMAIN §10 says,
 * the transition, the qualification table and the quarantine in one transaction. A report whose
 * id names no message yet — it came before its submit_sm_resp was stored, or the id is unknown —
 * waits and is tried again with back-off; operators see the waiting ones.
 */

export type IncomingReport = Omit<NewReportRow, "doneAt" | "detail"> & {
  doneAt?: string | null;
  detail?: unknown;
};

export async function storeReports(
  database: Database,
  reports: readonly IncomingReport[],
  now: number,
): Promise<void> {
  if (reports.length === 0) return;
  await execute(
    database,
    plans.insertReports(
      reports.map((r) => ({ ...r, doneAt: r.doneAt ?? null, detail: r.detail ?? null })),
      new Date(now).toISOString(),
    ),
  );
}

/** Words that, as the whole text of a mobile-originated message, unsubscribe its number. */
export const DEFAULT_STOP_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];

export interface IncomingMo {
  provider: string;
  from: string;
  to: string;
  text: string;
}

/**
 * Stores mobile-originated messages. One whose text is a stop keyword puts its number on the
 * denylist of the instance that last sent it an SMS (DOMAIN §7: a recipient's decision binds
 * that customer), with the keyword as the comment.
 */
export async function storeInbound(
  database: Database,
  messages: readonly IncomingMo[],
  options: { now: number; stopKeywords?: readonly string[] },
): Promise<NewInboundRow[]> {
  const keywords = new Set(
    (options.stopKeywords ?? DEFAULT_STOP_KEYWORDS).map((k) => k.trim().toUpperCase()),
  );
  const rows: NewInboundRow[] = [];
  for (const m of messages) {
    const from = e164(m.from);
    const word = m.text.trim().replace(/[.!]+$/u, "").toUpperCase();
    let keyword: string | null = null;
    let instanceId: string | null = null;
    if (keywords.has(word)) {
      keyword = word;
      const [last] = await execute<{ instanceId: string }>(database, plans.lastSmsSender(from));
      instanceId = last?.instanceId ?? null;
      if (instanceId) {
        await setStatus({ database, now: () => options.now }, "sms", from, {
          status: AddressStatus.denylisted,
          comment: `replied ${word} (mobile-originated SMS)`,
        }, instanceId);
      }
    }
    rows.push({
      provider: m.provider,
      fromNumber: from,
      toNumber: e164(m.to),
      text: m.text,
      keyword,
      instanceId,
    });
  }
  if (rows.length) {
    await execute(database, plans.insertInbound(rows, new Date(options.now).toISOString()));
  }
  return rows;
}

/** An SMPP source_addr as a number: `+` and digits when it is one, as given otherwise. */
const e164 = (
  addr: string,
) => (/^\+?\d{3,15}$/u.test(addr) ? `+${addr.replace(/^\+/u, "")}` : addr);

export interface ReportContext {
  rules: CompiledRules;
  domainRules: readonly DomainRule[];
  now: number;
  /** How each provider renders its ids (auto when not said). */
  idFormat?: (provider: string) => ReceiptIdFormat;
}

/** First retry of a report that matched nothing after 1 s, doubling to 10 min; none after 3 days. */
export function nextReportTry(tries: number, receivedAt: number, now: number): number | null {
  if (now - receivedAt > 3 * 24 * 3600_000) return null;
  return now + Math.min(1_000 * 2 ** Math.min(tries, 20), 10 * 60_000);
}

export interface AppliedReports {
  applied: number;
  waiting: number;
  /** Deliveries touched (finished when nothing of theirs waits, reopened when a retry came). */
  touched: string[];
}

/**
 * Applies up to `limit` stored reports in one transaction. Answers how many were applied and
 * how many still wait for their message (0 and 0: nothing to do).
 */
export async function applyReports(
  database: Database,
  ctx: ReportContext,
  limit = 500,
): Promise<AppliedReports> {
  const result = await database.db.transaction(async (tx) => {
    const reports = await execute<ReportRow>(
      tx,
      plans.lockReports(new Date(ctx.now).toISOString(), limit),
    );
    if (reports.length === 0) return null;
    const candidates = reports.map((r) =>
      receiptIdCandidates(r.remoteId, ctx.idFormat?.(r.provider) ?? "auto")
    );
    const keys = new Map<string, { provider: string; id: string }>();
    reports.forEach((r, i) => {
      for (const id of candidates[i]!) {
        keys.set(`${r.provider}\u0000${id}`, { provider: r.provider, id });
      }
    });
    const found = keys.size
      ? await execute<ClaimedMessage & { provider: string; providerMessageId: string }>(
        tx,
        plans.lockMessagesByProviderId([...keys.values()]),
      )
      : [];
    // The latest message under each (provider, id): an SMSC that restarted may reuse an id.
    const byKey = new Map<string, ClaimedMessage>();
    for (const m of found) {
      const key = `${m.provider}\u0000${m.providerMessageId}`;
      const had = byKey.get(key);
      if (!had || had.id < m.id) byKey.set(key, m);
    }
    const matched: { report: ReportRow; message: ClaimedMessage }[] = [];
    const unmatched: ReportRow[] = [];
    reports.forEach((r, i) => {
      const id = candidates[i]!.find((c) => byKey.has(`${r.provider}\u0000${c}`));
      const message = id === undefined ? undefined : byKey.get(`${r.provider}\u0000${id}`);
      if (message) matched.push({ report: r, message });
      else unmatched.push(r);
    });

    const touched = new Set<string>();
    if (matched.length) {
      const deliveryIds = [...new Set(matched.map((x) => x.message.deliveryId))];
      const deliveries = new Map(
        (await execute<RunningDelivery>(tx, plans.deliveriesByIds(deliveryIds))).map((d) => [
          d.id,
          d,
        ]),
      );
      // Several reports of one message in one batch: each applied in turn on the state the
      // previous one left (the core's join makes the order irrelevant to the end state).
      for (const [n, round] of roundsByMessage(matched).entries()) {
        const messages = n === 0 ? round.map((x) => x.message) : await relock(
          tx,
          round.map((x) => x.message.id),
        );
        const part = await applyToLocked(
          tx,
          "sms",
          messages,
          round.map((x) => ({
            kind: "report" as const,
            input: {
              channel: "sms" as const,
              kind: "receipt" as const,
              stat: x.report.stat,
              ...(x.report.err !== null ? { err: x.report.err } : {}),
              provider: x.report.provider,
            },
          })),
          deliveries,
          { rules: ctx.rules, domainRules: ctx.domainRules, now: ctx.now },
        );
        for (const d of part.touched) touched.add(d);
      }
      await execute(
        tx,
        plans.markReportsApplied(
          matched.map((x) => ({ id: x.report.id, messageId: x.message.id })),
          new Date(ctx.now).toISOString(),
        ),
      );
    }
    const waits = unmatched.flatMap((r) => {
      const at = nextReportTry(r.tries, new Date(r.receivedAt).getTime(), ctx.now);
      return [{ id: r.id, retryAt: at === null ? "infinity" : new Date(at).toISOString() }];
    });
    if (waits.length) await execute(tx, plans.markReportsWaiting(waits));
    return {
      applied: matched.length,
      waiting: unmatched.length,
      touched: [...touched],
    };
  });
  if (!result) return { applied: 0, waiting: 0, touched: [] };
  if (result.touched.length) {
    // A receipt may schedule a retry of a message whose delivery had finished: running again.
    await execute(database, plans.reopenDeliveries(result.touched));
    await closeDeliveries(database, { touched: result.touched, paused: [] }, ctx.now);
  }
  return result;
}

async function relock(tx: Parameters<typeof execute>[0], ids: number[]) {
  return await execute<ClaimedMessage>(tx, plans.lockMessages(ids));
}
