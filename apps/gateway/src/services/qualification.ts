import { and, asc, eq, gt, or, sql } from "drizzle-orm";
import type { Channel, EntryStatus, FailureType } from "@sendgate/core";
import { execute, plans, qualificationEntries, qualificationRules } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { type FieldProblem, ServiceError } from "./errors.ts";
import { integerId } from "../ids.ts";
import { pairError } from "./rules.ts";

type EntryRow = typeof qualificationEntries.$inferSelect;

export function entryView(row: EntryRow) {
  return {
    id: row.id,
    channel: row.channel as Channel,
    normalizedText: row.normalizedText,
    firstText: row.firstText,
    type: row.type as FailureType,
    reason: row.reason,
    status: row.status as EntryStatus,
    ruleId: row.ruleId,
    count: row.count,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
  };
}

export interface EntryFilter {
  status?: EntryStatus | undefined;
  channel?: Channel | undefined;
  reason?: number | undefined;
  /** Case-insensitive substring of the normalized text or of the first text. */
  text?: string | undefined;
  after?: number | null;
  limit: number;
}

/** A page of the qualification table, by id (keyset). */
export async function listEntries(deps: AppDeps, q: EntryFilter) {
  const t = qualificationEntries;
  const filters = [];
  if (q.status) filters.push(eq(t.status, q.status));
  if (q.channel) filters.push(eq(t.channel, q.channel));
  if (q.reason !== undefined) filters.push(eq(t.reason, q.reason));
  // strpos, not LIKE: the operator's text is taken literally (`%` and `_` included).
  if (q.text) {
    filters.push(
      or(
        sql`strpos(lower(${t.normalizedText}), lower(${q.text})) > 0`,
        sql`strpos(lower(${t.firstText}), lower(${q.text})) > 0`,
      )!,
    );
  }
  if (q.after) filters.push(gt(t.id, q.after));
  const rows = await deps.database.db.select().from(t).where(and(...filters)).orderBy(asc(t.id))
    .limit(q.limit + 1);
  const items = rows.slice(0, q.limit).map(entryView);
  return { items, next: rows.length > q.limit ? items.at(-1)!.id : null };
}

export interface EntryPatch {
  type?: FailureType | undefined;
  reason?: number | undefined;
  status?: EntryStatus | undefined;
}

/** The (type, reason) pair a patch leaves, checked against the reasons table (DOMAIN §2). */
function checkPair(
  patch: EntryPatch,
  current: { type: string; reason: number },
): FieldProblem | null {
  if (patch.type === undefined && patch.reason === undefined) return null;
  return pairError(
    patch.type ?? current.type as FailureType,
    patch.reason ?? current.reason,
    patch.type !== undefined ? "type" : "reason",
  );
}

/** An operator qualifies one entry: its type, reason and status. */
export async function updateEntry(deps: AppDeps, id: string, patch: EntryPatch) {
  const key = integerId(id, 2_147_483_647);
  if (key === null) throw new ServiceError("notFound", `no qualification entry ${id}`);
  return await deps.database.db.transaction(async (tx) => {
    const [row] = await tx.select().from(qualificationEntries).where(
      eq(qualificationEntries.id, key),
    ).for("update");
    if (!row) throw new ServiceError("notFound", `no qualification entry ${id}`);
    const error = checkPair(patch, row);
    if (error) {
      throw new ServiceError("invalid", "the entry's type and reason do not agree", [error]);
    }
    const [updated] = await tx.update(qualificationEntries).set(changes(patch)).where(
      eq(qualificationEntries.id, row.id),
    ).returning();
    return entryView(updated!);
  });
}

const changes = (patch: EntryPatch) => ({
  ...(patch.type !== undefined ? { type: patch.type } : {}),
  ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
  ...(patch.status !== undefined ? { status: patch.status } : {}),
});

export interface Requalification extends EntryPatch {
  channel: Channel;
  /** A normalized text, as the qualification table stores it; or else `ruleId`. */
  text?: string | undefined;
  ruleId?: string | undefined;
  from: string;
  to: string;
  release: boolean;
  comment?: string | undefined;
}

/**
 * Corrects an ISP outage (DOMAIN §6): re-qualifies the entries of a text (or of every text a
 * rule qualified) and releases the quarantines that text or rule caused within [from, to]. Both
 * are one set-based statement each, in one transaction. The release is `decideAddress`'s
 * `release` event in SQL: quarantined and erroneous addresses become valid with no error; any
 * other status (denylisted, allowlisted, valid) is the operator's or a complaint's and stays.
 */
export async function requalify(deps: AppDeps, input: Requalification) {
  const byText = input.text !== undefined;
  const entryMatch = and(
    eq(qualificationEntries.channel, input.channel),
    byText
      ? eq(qualificationEntries.normalizedText, input.text!)
      : eq(qualificationEntries.ruleId, input.ruleId!),
  );
  const set = changes(input);
  // A pair given whole is checked even when no entry matches.
  const given = input.type !== undefined && input.reason !== undefined
    ? checkPair(input, { type: input.type, reason: input.reason })
    : null;
  if (given) throw new ServiceError("invalid", "the type and reason do not agree", [given]);
  return await deps.database.db.transaction(async (tx) => {
    // What it names must exist: a typo must not pass for "nothing to release" (200, 0).
    const known = byText
      ? await tx.select({ id: qualificationEntries.id }).from(qualificationEntries)
        .where(entryMatch).limit(1)
      : await tx.select({ id: qualificationRules.id }).from(qualificationRules).where(
        and(
          eq(qualificationRules.id, input.ruleId!),
          eq(qualificationRules.channel, input.channel),
        ),
      );
    if (known.length === 0) {
      throw new ServiceError(
        "notFound",
        byText
          ? `no ${input.channel} qualification entry has this normalized text`
          : `no ${input.channel} rule ${input.ruleId}`,
      );
    }
    let entriesUpdated = 0;
    if (Object.keys(set).length > 0) {
      // Each distinct pair the update would leave must be allowed: a few rows, read once.
      const pairs = await tx.selectDistinct({
        type: qualificationEntries.type,
        reason: qualificationEntries.reason,
      })
        .from(qualificationEntries).where(entryMatch);
      const errors = pairs.map((p) => checkPair(input, p)).filter((e): e is FieldProblem =>
        e !== null
      );
      if (errors.length) {
        throw new ServiceError("invalid", "the entries' type and reason would not agree", [
          errors[0]!,
        ]);
      }
      entriesUpdated = (await tx.update(qualificationEntries).set(set).where(entryMatch).returning({
        id: qualificationEntries.id,
      })).length;
    }
    let quarantinesReleased = 0;
    if (input.release) {
      const released = await execute(
        tx,
        plans.releaseCausedBy(
          input.channel,
          byText ? { text: input.text! } : { ruleId: input.ruleId! },
          new Date(input.from).toISOString(),
          new Date(input.to).toISOString(),
          input.comment ?? null,
          new Date(deps.now()).toISOString(),
        ),
      );
      quarantinesReleased = released.length;
    }
    return { entriesUpdated, quarantinesReleased };
  });
}
