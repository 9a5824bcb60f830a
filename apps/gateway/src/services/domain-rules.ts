import { asc, eq } from "drizzle-orm";
import type { DomainRule } from "@sendgate/core";
import { type Database, domainRules, isUniqueViolation } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { ServiceError } from "./errors.ts";
import { integerId } from "../ids.ts";
import { type Idempotency, idempotent, type IdempotentResult } from "./idempotency.ts";

type Row = typeof domainRules.$inferSelect;

/**
 * A domain rule as the API shows it. Each setting has three states, as in the core's
 * `DomainRule`: absent (inherit from the `*` rule, then the built-in default), `null`
 * (explicitly none: no rate limit, never suspend, no signing, no relay), or a value.
 */
export interface DomainRuleInput {
  domain: string;
  rate?: { count: number; periodSeconds: number } | null | undefined;
  suspension?:
    | { minMessages: number; errorRate: number; durationSeconds: number; windowSeconds: number }
    | null
    | undefined;
  dkim?: { domainName: string; keySelector: string } | null | undefined;
  relay?: { host: string; port: number } | null | undefined;
}

/** What `settings` holds: the core's units (ms), absent = inherit, null = none. */
interface Settings {
  rate?: { count: number; periodMs: number } | null;
  suspension?:
    | { minMessages: number; errorRate: number; durationMs: number; windowMs: number }
    | null;
  dkim?: { domainName: string; keySelector: string } | null;
  relay?: { host: string; port: number } | null;
}

function toColumns(input: DomainRuleInput) {
  const { rate, suspension } = input;
  const settings: Settings = {};
  if (rate !== undefined) {
    settings.rate = rate && { count: rate.count, periodMs: rate.periodSeconds * 1000 };
  }
  if (suspension !== undefined) {
    settings.suspension = suspension && {
      minMessages: suspension.minMessages,
      errorRate: suspension.errorRate,
      durationMs: suspension.durationSeconds * 1000,
      windowMs: suspension.windowSeconds * 1000,
    };
  }
  if (input.dkim !== undefined) settings.dkim = input.dkim;
  if (input.relay !== undefined) settings.relay = input.relay;
  return { domain: input.domain, settings };
}

const settings = (row: Row) => row.settings as Settings;

const present = <K extends string, V>(
  key: K,
  value: V | undefined,
) => (value === undefined ? {} : { [key]: value } as { [P in K]: V });

export type DomainRuleView = ReturnType<typeof domainRuleView>;

export function domainRuleView(row: Row) {
  const s = settings(row);
  return {
    id: row.id,
    domain: row.domain,
    ...present("rate", s.rate && { count: s.rate.count, periodSeconds: s.rate.periodMs / 1000 }),
    ...present(
      "suspension",
      s.suspension && {
        minMessages: s.suspension.minMessages,
        errorRate: s.suspension.errorRate,
        durationSeconds: s.suspension.durationMs / 1000,
        windowSeconds: s.suspension.windowMs / 1000,
      },
    ),
    ...present("dkim", s.dkim),
    ...present("relay", s.relay),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Runs a write; a second rule for the same domain is a conflict, not an internal error. */
async function unique<T>(domain: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ServiceError("conflict", `a rule for ${domain} already exists`);
    }
    throw error;
  }
}

const parseId = (id: string) => {
  const key = integerId(id, 2_147_483_647);
  if (key === null) throw new ServiceError("notFound", `no domain rule ${id}`);
  return key;
};

export async function listDomainRules(deps: AppDeps) {
  const rows = await deps.database.db.select().from(domainRules).orderBy(asc(domainRules.domain));
  return { items: rows.map(domainRuleView) };
}

export async function getDomainRule(deps: AppDeps, id: string) {
  const [row] = await deps.database.db.select().from(domainRules).where(
    eq(domainRules.id, parseId(id)),
  );
  if (!row) throw new ServiceError("notFound", `no domain rule ${id}`);
  return domainRuleView(row);
}

export async function createDomainRule(
  deps: AppDeps,
  input: DomainRuleInput,
  owner: string,
  idempotency: Idempotency | null = null,
): Promise<IdempotentResult<DomainRuleView>> {
  const at = new Date(deps.now());
  return await unique(
    input.domain,
    () =>
      idempotent(deps.database, owner, idempotency, async (tx) => {
        const [row] = await tx.insert(domainRules).values({
          ...toColumns(input),
          createdAt: at,
          updatedAt: at,
        }).returning();
        return { status: 201, body: domainRuleView(row!) };
      }),
  );
}

/** Replaces a rule whole: a setting left out goes back to absent (inherit). */
export async function replaceDomainRule(deps: AppDeps, id: string, input: DomainRuleInput) {
  const key = parseId(id);
  const [row] = await unique(
    input.domain,
    () =>
      deps.database.db.update(domainRules).set({
        ...toColumns(input),
        updatedAt: new Date(deps.now()),
      }).where(eq(domainRules.id, key)).returning(),
  );
  if (!row) throw new ServiceError("notFound", `no domain rule ${id}`);
  return domainRuleView(row);
}

export async function deleteDomainRule(deps: AppDeps, id: string): Promise<void> {
  const [row] = await deps.database.db.delete(domainRules).where(eq(domainRules.id, parseId(id)))
    .returning({ id: domainRules.id });
  if (!row) throw new ServiceError("notFound", `no domain rule ${id}`);
}

/** The stored rules as the core's `DomainRule`s (ms units), for `resolveDomainRule`. */
export async function loadDomainRules(database: Database): Promise<DomainRule[]> {
  const rows = await database.db.select().from(domainRules).orderBy(asc(domainRules.domain));
  return rows.map((row) => {
    const { rate, suspension } = settings(row);
    return { domain: row.domain, ...present("rate", rate), ...present("suspension", suspension) };
  });
}
