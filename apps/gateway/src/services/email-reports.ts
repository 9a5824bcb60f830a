import { Buffer } from "node:buffer";
import {
  parseBounce,
  type ParsedBounce,
  parseMessageToken,
  type QualifiedRecipient,
  qualifyBounce,
} from "@sendgate/channels";
import { AddressStatus } from "@sendgate/core";
import { type Database, type EmailReportRow, emailReports, execute, plans } from "@sendgate/db";
import {
  applyToLocked,
  closeDeliveries,
  type ReportOutcome,
  roundsByMessage,
} from "../dispatcher/outcomes.ts";
import type { ClaimedMessage, RunningDelivery } from "../dispatcher/types.ts";
import { loadChannelSettings } from "./channel-settings.ts";
import { setStatus } from "./quarantine.ts";
import type { ReportContext } from "./sms-reports.ts";
import { decide, persist, writeCounters } from "./transitions.ts";

/**
 * Incoming email reports (DOMAIN §4): bounces, auto-replies and ARF complaints. Each is stored
 * raw first (`storeEmailReport`: the bounce listener answers 250 only then), then applied in
 * batches by every dispatcher (`applyEmailReports`): parsed (`parseBounce`), qualified with the
 * rules in force (`qualifyBounce`), attributed to its message by the correlation token — the VERP
 * address it was sent to, else the returned X-Sendgate-Id, else a VERP address in its headers —
 * and applied through the core in one transaction per batch: a failed recipient is a failure of
 * origin `bounce` (a second bounce for the same attempt changes nothing), a delayed one an event
 * with its qualified text that changes no status, a complaint the core's `complaint` event and
 * the address on the sending instance's denylist (reason 8), an auto-reply nothing (ignored,
 * never counted). A report that names no message is kept `unmatched`, never dropped.
 */

export interface IncomingEmailReport {
  source: "smtp" | "import";
  envelopeFrom?: string | null;
  envelopeTo?: string | null;
  origin?: string | null;
  raw: Uint8Array;
}

export async function storeEmailReport(
  database: Database,
  report: IncomingEmailReport,
): Promise<number> {
  const [row] = await database.db.insert(emailReports).values({
    source: report.source,
    envelopeFrom: report.envelopeFrom ?? null,
    envelopeTo: report.envelopeTo ?? null,
    origin: report.origin ?? null,
    raw: report.raw,
    size: report.raw.byteLength,
  }).returning({ id: emailReports.id });
  return row!.id;
}

/** The correlation tokens a report offers, best first: its envelope, the original's headers. */
export function reportTokens(
  envelopeTo: string | null,
  parsed: ParsedBounce,
): string[] {
  const tokens: string[] = [];
  const local = envelopeTo?.slice(0, envelopeTo.lastIndexOf("@")) ?? "";
  const plus = local.indexOf("+");
  if (plus >= 0) tokens.push(local.slice(plus + 1));
  if (parsed.sendgateId) tokens.push(parsed.sendgateId);
  if (parsed.verpToken) tokens.push(parsed.verpToken);
  return [...new Set(tokens.map((t) => t.trim().toLowerCase()).filter(Boolean))];
}

/** Bytes of raw reports one batch reads (a single larger report still goes alone). */
const BATCH_BYTES = 16 * 1024 * 1024;

interface Planned {
  report: EmailReportRow;
  parsed: ParsedBounce;
  lines: QualifiedRecipient[];
  messageId: number | null;
}

export interface AppliedEmailReports {
  applied: number;
  unmatched: number;
  ignored: number;
  touched: string[];
}

/** The line of a report that speaks of `address` (or its only line). */
function lineFor(lines: readonly QualifiedRecipient[], address: string | null) {
  const wanted = address?.toLowerCase();
  return lines.find((l) => l.recipient.toLowerCase() === wanted) ??
    (lines.length === 1 ? lines[0] : undefined);
}

const summary = (p: Planned, extra: Record<string, unknown> = {}) => ({
  kind: p.parsed.kind,
  subject: p.parsed.subject,
  recipients: p.lines.map((l) => ({
    recipient: l.recipient,
    action: l.action,
    status: l.status,
    diagnostic: l.diagnostic?.slice(0, 1_000) ?? null,
    type: l.type,
    reason: l.reason,
    rule: l.rule,
  })),
  ...extra,
});

/** Applies up to `limit` stored reports; answers what became of them (all 0: nothing to do). */
export async function applyEmailReports(
  database: Database,
  ctx: ReportContext,
  limit = 50,
): Promise<AppliedEmailReports> {
  const email = (await loadChannelSettings(database)).find((c) => c.channel === "email");
  const secret = email?.secrets.tokenSecret ?? null;
  const complaints: { reportId: number; address: string; instanceId: string; token: string }[] = [];
  const result = await database.db.transaction(async (tx) => {
    const locked0 = await execute<EmailReportRow>(
      tx,
      plans.lockEmailReports(new Date(ctx.now).toISOString(), limit),
    );
    if (locked0.length === 0) return null;
    // A byte budget per batch (at least one report): 50 reports of 64 MiB are not read at once.
    // The others stay locked until the commit and pending, for the next batch.
    let bytes = 0;
    const reports = locked0.filter((r, i) => {
      bytes += r.size;
      return i === 0 || bytes <= BATCH_BYTES;
    });
    const raws = new Map(
      (await execute<{ id: number; raw: Uint8Array }>(
        tx,
        plans.emailReportRaw(reports.map((r) => r.id)),
      )).map((r) => [r.id, r.raw]),
    );
    const planned: Planned[] = [];
    for (const report of reports) {
      const parsed = await parseBounce(Buffer.from(raws.get(report.id) ?? new Uint8Array()));
      const lines = qualifyBounce(ctx.rules, parsed);
      const ids = secret === null
        ? []
        : reportTokens(report.envelopeTo, parsed).map((t) => parseMessageToken(t, secret));
      planned.push({ report, parsed, lines, messageId: ids.find((id) => id !== null) ?? null });
    }
    const ids = [...new Set(planned.flatMap((p) => (p.messageId === null ? [] : [p.messageId])))];
    const locked = new Map(
      (ids.length ? await execute<ClaimedMessage>(tx, plans.lockMessages(ids)) : [])
        .map((m) => [m.id, m]),
    );
    const deliveryIds = [...new Set([...locked.values()].map((m) => m.deliveryId))];
    const deliveries = new Map(
      (deliveryIds.length
        ? await execute<RunningDelivery>(tx, plans.deliveriesByIds(deliveryIds))
        : []).map((d) => [d.id, d]),
    );
    const marks: Parameters<typeof plans.markEmailReports>[0][number][] = [];
    const failures: { p: Planned; message: ClaimedMessage; outcome: ReportOutcome }[] = [];
    const notes: { p: Planned; message: ClaimedMessage; line: QualifiedRecipient }[] = [];
    const complained: { p: Planned; message: ClaimedMessage }[] = [];
    const mark = (
      p: Planned,
      state: "applied" | "unmatched" | "ignored",
      extra: Record<string, unknown> = {},
    ) =>
      marks.push({
        id: p.report.id,
        state,
        kind: p.parsed.kind,
        messageId: p.messageId !== null && locked.has(p.messageId) ? p.messageId : null,
        retryAt: null,
        detail: summary(p, extra),
      });
    for (const p of planned) {
      const message = p.messageId === null ? undefined : locked.get(p.messageId);
      if (p.parsed.kind === "autoReply") {
        mark(p, "ignored", { note: "auto-reply: not a failure, never counted" });
        continue;
      }
      if (!message) {
        mark(p, "unmatched", {
          note: p.messageId === null
            ? "no valid correlation token (VERP address, X-Sendgate-Id)"
            : "its message no longer exists",
        });
        continue;
      }
      if (p.parsed.kind === "complaint") {
        // Marked applied once the address is on the denylist, after this transaction; a second
        // complaint about the same message in the batch changes nothing more.
        if (complained.some((x) => x.message.id === message.id)) {
          mark(p, "applied", { note: "a duplicate complaint" });
        } else complained.push({ p, message });
        continue;
      }
      const line = lineFor(p.lines, message.address);
      if (!line) {
        mark(p, "unmatched", { note: "no recipient of the report is the message's address" });
        continue;
      }
      if (line.action === "failed" && line.type !== null) {
        failures.push({
          p,
          message,
          outcome: {
            kind: "report",
            input: {
              channel: "email",
              kind: "dsn",
              action: "failed",
              ...(line.status ? { status: line.status } : {}),
              ...(line.diagnostic ? { diagnosticCode: line.diagnostic } : {}),
              ...(line.stage ? { stage: line.stage } : {}),
            },
          },
        });
      } else {
        // Delayed (qualified, recorded, not a failure: DOMAIN §4), delivered, relayed.
        notes.push({ p, message, line });
      }
      mark(p, "applied");
    }

    const touched = new Set<string>();
    // One report per message per round (the core's join makes the order irrelevant).
    for (const round of roundsByMessage(failures)) {
      const fresh = new Map(
        (await execute<ClaimedMessage>(tx, plans.lockMessages(round.map((x) => x.message.id))))
          .map((m) => [m.id, m]),
      );
      const part = await applyToLocked(
        tx,
        "email",
        round.map((x) => fresh.get(x.message.id) ?? x.message),
        round.map((x) => x.outcome),
        deliveries,
        { rules: ctx.rules, domainRules: ctx.domainRules, now: ctx.now },
      );
      for (const d of part.touched) touched.add(d);
    }
    if (notes.length) {
      await execute(
        tx,
        plans.insertEvents(
          notes.map(({ message, line }) => ({
            messageId: message.id,
            event: line.action === "delayed" ? "delayed" : `report:${line.action}`,
            status: message.status,
            failureType: line.action === "delayed" ? line.type : null,
            reason: line.action === "delayed" ? line.reason : null,
            text: [line.status, line.diagnostic].filter(Boolean).join(" ") || null,
            detail: { rule: line.rule },
          })),
          new Date(ctx.now).toISOString(),
        ),
      );
    }
    if (complained.length) {
      // The core's `complaint` event: the message stays as it is, the address is denylisted.
      const decisions = complained.map(({ message }) =>
        decide(message, { type: "complaint", attempt: Math.max(1, message.attempt) })
      );
      const deltas = await persist(tx, decisions, ctx.now, {
        text: () => "spam complaint (ARF)",
        keepClaim: (d) => d.row.status === "prepared",
      });
      await writeCounters(tx, deltas);
      for (const { p, message } of complained) {
        const delivery = deliveries.get(message.deliveryId);
        if (message.address && delivery) {
          complaints.push({
            reportId: p.report.id,
            address: message.address,
            instanceId: delivery.instanceId,
            token: p.parsed.feedbackType ?? "abuse",
          });
        } else mark(p, "unmatched", { note: "the complained message has no address" });
      }
    }
    if (marks.length) {
      await execute(tx, plans.markEmailReports(marks, new Date(ctx.now).toISOString()));
    }
    return {
      applied: marks.filter((m) => m.state === "applied").length + complaints.length,
      unmatched: marks.filter((m) => m.state === "unmatched").length,
      ignored: marks.filter((m) => m.state === "ignored").length,
      touched: [...touched],
      planned,
    };
  });
  if (!result) return { applied: 0, unmatched: 0, ignored: 0, touched: [] };
  // Complaints (DOMAIN §4, §7): the address on the denylist of the instance that sent it, then
  // the report marked applied. A crash in between leaves the report pending: applied again, the
  // core's event changes nothing the second time and the denylist entry is already there.
  for (const c of complaints) {
    await setStatus({ database, now: () => ctx.now }, "email", c.address, {
      status: AddressStatus.denylisted,
      comment: `spam complaint (ARF, ${c.token})`,
    }, c.instanceId);
    const p = result.planned.find((x) => x.report.id === c.reportId)!;
    await execute(
      database,
      plans.markEmailReports([{
        id: c.reportId,
        state: "applied",
        kind: "complaint",
        messageId: p.messageId,
        retryAt: null,
        detail: summary(p, { denylisted: c.address }),
      }], new Date(ctx.now).toISOString()),
    );
  }
  if (result.touched.length) {
    // A bounce may schedule a retry of a message whose delivery had finished: running again.
    await execute(database, plans.reopenDeliveries(result.touched));
    await closeDeliveries(database, { touched: result.touched, paused: [] }, ctx.now);
  }
  return {
    applied: result.applied,
    unmatched: result.unmatched,
    ignored: result.ignored,
    touched: result.touched,
  };
}

/** Counts by state and kind, and one state's reports newest first (below the id `before`). */
export async function listEmailReports(
  deps: { database: Database },
  state: string,
  limit: number,
  before: number | null,
) {
  const [counts, items] = await Promise.all([
    execute<{ state: string; kind: string; count: number; oldest: string }>(
      deps.database,
      plans.emailReportCounts(),
    ),
    execute<Record<string, unknown> & { id: number }>(
      deps.database,
      plans.emailReportsPage(state, before, limit),
    ),
  ]);
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    counts: counts.map((c) => ({ ...c, oldest: iso(c.oldest)! })),
    items: items.map((r) => ({ ...r, receivedAt: iso(r.receivedAt), appliedAt: iso(r.appliedAt) })),
    next: items.length === limit ? items[items.length - 1]!.id : null,
  };
}
