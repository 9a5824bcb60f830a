import { randomBytes } from "node:crypto";
import { and, asc, eq, gte, ne, sql } from "drizzle-orm";
import {
  type Channel,
  type FailureType,
  type ReasonCode,
  reasons,
  type RetryMode,
  type Rule,
  ruleError,
  type RuleLayer,
  type RuleSet,
  shippedRules,
  textProblem,
} from "@sendgate/core";
import { type Database, isUniqueViolation, qualificationRules } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { type FieldProblem, ServiceError } from "./errors.ts";
import { type Idempotency, idempotent, type IdempotentResult, type Tx } from "./idempotency.ts";

type RuleRow = typeof qualificationRules.$inferSelect;

/** What an operator sends to create or replace a rule (the id comes from the path on PUT). */
export interface RuleInput {
  channel: Channel;
  pattern: string;
  regex?: boolean | undefined;
  type: FailureType;
  /** A reason code (checked by the route's schema). */
  reason: number;
  retry?: RetryMode | undefined;
  pauseDelivery?: boolean | undefined;
  note?: string | undefined;
  position?: number | undefined;
}

export type RuleView = ReturnType<typeof ruleView>;

export function ruleView(row: RuleRow) {
  return {
    id: row.id,
    layer: row.layer as RuleLayer,
    channel: row.channel as Channel,
    pattern: row.pattern,
    regex: row.regex,
    type: row.type as FailureType,
    reason: row.reason,
    retry: row.retry as RetryMode | null,
    pauseDelivery: row.pauseDelivery,
    note: row.note,
    position: row.position,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Why a (type, reason) pair is not allowed (DOMAIN §2), or null. `field` is the body field the
 * error is reported on: the one the caller set.
 */
export function pairError(
  type: FailureType,
  reason: number,
  field: "type" | "reason",
): FieldProblem | null {
  const info = reasons[reason as ReasonCode];
  if (info.types.includes(type)) return null;
  const allowed = info.types.length ? `type ${info.types.join(" or ")}` : "no failure type";
  return {
    path: field,
    message: `reason ${reason} (${info.label}) allows ${allowed}, not ${type}`,
  };
}

/** Checks an operator rule before it is saved: a usable pattern and an allowed (type, reason). */
function checkRule(input: RuleInput): void {
  const errors: FieldProblem[] = [];
  const patternError = ruleError({ pattern: input.pattern, regex: input.regex ?? false });
  if (patternError) errors.push({ path: "pattern", message: patternError });
  const pair = pairError(input.type, input.reason, "type");
  if (pair) errors.push(pair);
  if (errors.length) throw new ServiceError("invalid", "the rule cannot be used", errors);
}

const readOnly = () =>
  new ServiceError("conflict", "shipped rules are read-only; add an operator rule to override");

export async function listRules(
  deps: AppDeps,
  q: { layer?: RuleLayer | undefined; channel?: Channel | undefined },
) {
  const filters = [];
  if (q.layer) filters.push(eq(qualificationRules.layer, q.layer));
  if (q.channel) filters.push(eq(qualificationRules.channel, q.channel));
  // Matching order: the operator layer before the shipped layer (alphabetical), each by position.
  const rows = await deps.database.db.select().from(qualificationRules).where(and(...filters))
    .orderBy(
      asc(qualificationRules.layer),
      asc(qualificationRules.position),
      asc(qualificationRules.id),
    );
  return { items: rows.map(ruleView) };
}

/** A rule id is a token; anything else names no rule (and never reaches the database). */
const checkId = (id: string) => {
  if (id.length > 100 || textProblem(id, "token")) {
    throw new ServiceError("notFound", `no rule ${id}`);
  }
};

async function findRule(deps: AppDeps, id: string) {
  checkId(id);
  const [row] = await deps.database.db.select().from(qualificationRules).where(
    eq(qualificationRules.id, id),
  );
  if (!row) throw new ServiceError("notFound", `no rule ${id}`);
  return row;
}

/** Any rule, shipped ones included: reading them is how an operator knows what to override. */
export async function getRule(deps: AppDeps, id: string) {
  return ruleView(await findRule(deps, id));
}

const columns = (input: RuleInput) => ({
  channel: input.channel,
  pattern: input.pattern,
  regex: input.regex ?? false,
  type: input.type,
  reason: input.reason,
  retry: input.retry ?? null,
  pauseDelivery: input.pauseDelivery ?? false,
  note: input.note ?? null,
});

/**
 * Creates an operator rule. Without a position it goes last in the operator layer; with one, it
 * takes that place and the rules from there on move down by one.
 */
export async function createRule(
  deps: AppDeps,
  input: RuleInput & { id?: string | undefined },
  owner: string,
  idempotency: Idempotency | null = null,
): Promise<IdempotentResult<RuleView>> {
  checkRule(input);
  const id = input.id ?? `op-${randomBytes(6).toString("hex")}`;
  const at = new Date(deps.now());
  try {
    return await idempotent(deps.database, owner, idempotency, async (tx) => {
      const position = input.position ?? await nextPosition(tx);
      if (input.position !== undefined) await shiftFrom(tx, position, null);
      const [row] = await tx.insert(qualificationRules).values({
        id,
        layer: "operator",
        ...columns(input),
        position,
        createdAt: at,
        updatedAt: at,
      })
        .returning();
      return { status: 201, body: ruleView(row!) };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ServiceError("conflict", `a rule ${id} already exists`);
    throw error;
  }
}

async function nextPosition(tx: Tx): Promise<number> {
  const [row] = await tx.select({
    n: sql<number>`coalesce(max(${qualificationRules.position}) + 1, 0)::int`,
  }).from(qualificationRules)
    .where(eq(qualificationRules.layer, "operator"));
  return Number(row?.n ?? 0);
}

/** Makes room at `position` in the operator layer: that rule and the ones after move down by one. */
async function shiftFrom(tx: Tx, position: number, except: string | null): Promise<void> {
  const filters = [
    eq(qualificationRules.layer, "operator"),
    gte(qualificationRules.position, position),
  ];
  if (except) filters.push(ne(qualificationRules.id, except));
  await tx.update(qualificationRules).set({ position: sql`${qualificationRules.position} + 1` })
    .where(and(...filters));
}

/** Replaces an operator rule; without a position it keeps its place. */
export async function replaceRule(deps: AppDeps, id: string, input: RuleInput) {
  checkId(id);
  checkRule(input);
  return await deps.database.db.transaction(async (tx) => {
    const [current] = await tx.select().from(qualificationRules).where(
      eq(qualificationRules.id, id),
    ).for("update");
    if (!current) throw new ServiceError("notFound", `no rule ${id}`);
    if (current.layer !== "operator") throw readOnly();
    const position = input.position ?? current.position;
    if (position !== current.position) await shiftFrom(tx, position, id);
    const [row] = await tx.update(qualificationRules).set({
      ...columns(input),
      position,
      updatedAt: new Date(deps.now()),
    })
      .where(eq(qualificationRules.id, id)).returning();
    return ruleView(row!);
  });
}

export async function deleteRule(deps: AppDeps, id: string): Promise<void> {
  const row = await findRule(deps, id);
  if (row.layer !== "operator") throw readOnly();
  await deps.database.db.delete(qualificationRules).where(
    and(eq(qualificationRules.id, id), eq(qualificationRules.layer, "operator")),
  );
}

/**
 * Replaces the shipped layer with `rules` (by default the ones this build ships), keeping their
 * order as positions, in one transaction. Operator rows are never touched (DOMAIN §6). The table
 * is locked against concurrent writers so that two gateways starting together do not collide.
 */
export async function syncShippedRules(
  database: Database,
  rules: readonly Rule[] = shippedRules,
): Promise<void> {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`lock table qualification_rules in exclusive mode`);
    await tx.delete(qualificationRules).where(eq(qualificationRules.layer, "shipped"));
    if (rules.length === 0) return;
    await tx.insert(qualificationRules).values(
      rules.map((rule, position) => ({
        id: rule.id,
        layer: "shipped",
        ...columns(rule),
        position,
      })),
    );
  });
}

function toRule(row: RuleRow): Rule {
  return {
    id: row.id,
    channel: row.channel as Channel,
    pattern: row.pattern,
    regex: row.regex,
    type: row.type as FailureType,
    reason: row.reason as ReasonCode,
    ...(row.retry ? { retry: row.retry as RetryMode } : {}),
    ...(row.pauseDelivery ? { pauseDelivery: true } : {}),
    ...(row.note ? { note: row.note } : {}),
  };
}

/** The rules in the table as a core rule set, each layer in matching order. */
export async function loadRuleSet(database: Database): Promise<RuleSet> {
  const rows = await database.db.select().from(qualificationRules)
    .orderBy(asc(qualificationRules.position), asc(qualificationRules.id));
  return {
    operator: rows.filter((r) => r.layer === "operator").map(toRule),
    shipped: rows.filter((r) => r.layer === "shipped").map(toRule),
  };
}
