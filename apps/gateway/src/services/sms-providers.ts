import { asc, eq } from "drizzle-orm";
import type { ReceiptIdFormat } from "@sendgate/core";
import { type Database, execute, plans, smsProviders } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { ServiceError } from "./errors.ts";

/**
 * SMS providers: SMPP accounts with their routing (number prefixes, priority), picked up by
 * running dispatchers within seconds. The bind password and the HTTP callback secret are
 * write-only: stored, used, never answered.
 */
export interface SmsProviderSettings {
  host: string;
  port: number;
  systemId: string;
  systemType?: string | undefined;
  addressRange?: string | undefined;
  /** Binds the provider allows, for the whole cluster (default 1); pairs in `pair` mode. */
  binds?: number | undefined;
  /** One transceiver per bind (default), or a transmitter + receiver pair. */
  bindMode?: "transceiver" | "pair" | undefined;
  /** Outstanding submit_sm per bind (default 10). */
  window?: number | undefined;
  responseTimeoutMs?: number | undefined;
  /** submit_sm per second per bind, as contracted (none by default). */
  throughput?: number | undefined;
  enquireLinkMs?: number | undefined;
  longMessages?: "udh" | "sar" | "payload" | undefined;
  receiptIdFormat?: ReceiptIdFormat | undefined;
  /** E.164 prefixes served, digits without `+`; none: every number. */
  prefixes?: string[] | undefined;
  /** Lower goes first among providers whose prefix matches as well. */
  priority?: number | undefined;
  /** The sender when the delivery gives none. */
  defaultSender?: string | undefined;
  /** Whole-text replies that put the number on the sending instance's denylist. */
  stopKeywords?: string[] | undefined;
}

export interface SmsProviderSecrets {
  password?: string;
  callbackSecret?: string;
}

export interface StoredProvider {
  id: string;
  settings: SmsProviderSettings;
  secrets: SmsProviderSecrets;
  updatedAt: Date;
}

export type SmsProviderInput = SmsProviderSettings & {
  password?: string | undefined;
  callbackSecret?: string | undefined;
};

/** Every provider with its secrets: for the dispatcher and the callback route, never an answer. */
export async function loadProviders(database: Database): Promise<StoredProvider[]> {
  const rows = await database.db.select().from(smsProviders).orderBy(asc(smsProviders.id));
  return rows.map((r) => ({
    id: r.id,
    settings: r.settings as SmsProviderSettings,
    secrets: r.secrets as SmsProviderSecrets,
    updatedAt: r.updatedAt,
  }));
}

function view(p: StoredProvider) {
  return {
    id: p.id,
    ...p.settings,
    hasPassword: Boolean(p.secrets.password),
    hasCallbackSecret: Boolean(p.secrets.callbackSecret),
    updatedAt: p.updatedAt.toISOString(),
  };
}
export type SmsProviderView = ReturnType<typeof view>;

export async function listProviders(deps: Pick<AppDeps, "database" | "now">) {
  const [providers, slots] = await Promise.all([
    loadProviders(deps.database),
    execute<{ provider: string; slot: number; holder: string; leaseUntil: string }>(
      deps.database,
      plans.bindSlots(new Date(deps.now()).toISOString()),
    ),
  ]);
  return {
    items: providers.map((p) => ({
      ...view(p),
      bindsHeld: slots.filter((s) => s.provider === p.id).map((s) => ({
        slot: s.slot,
        holder: s.holder,
        leaseUntil: new Date(s.leaseUntil).toISOString(),
      })),
    })),
  };
}

export async function getProvider(deps: Pick<AppDeps, "database">, id: string) {
  const found = (await loadProviders(deps.database)).find((p) => p.id === id);
  if (!found) throw new ServiceError("notFound", `no SMS provider ${id}`);
  return view(found);
}

/** Replaces a provider's settings; a secret left out keeps its stored value. */
export async function putProvider(
  deps: Pick<AppDeps, "database" | "now">,
  id: string,
  input: SmsProviderInput,
) {
  const { password, callbackSecret, ...settings } = input;
  const [current] = await deps.database.db.select().from(smsProviders)
    .where(eq(smsProviders.id, id));
  const old = (current?.secrets ?? {}) as SmsProviderSecrets;
  const secrets: SmsProviderSecrets = {};
  const pass = password ?? old.password;
  if (pass !== undefined) secrets.password = pass;
  const callback = callbackSecret ?? old.callbackSecret;
  if (callback !== undefined) secrets.callbackSecret = callback;
  if (secrets.password === undefined) {
    throw new ServiceError("invalid", "the provider needs a bind password", [{
      path: "password",
      message: "give the SMPP password (it is kept and never shown)",
    }]);
  }
  const at = new Date(deps.now());
  const [row] = await deps.database.db.insert(smsProviders)
    .values({ id, settings, secrets, updatedAt: at })
    .onConflictDoUpdate({ target: smsProviders.id, set: { settings, secrets, updatedAt: at } })
    .returning();
  return view({ id, settings: row!.settings as SmsProviderSettings, secrets, updatedAt: at });
}

export async function deleteProvider(deps: Pick<AppDeps, "database">, id: string) {
  const removed = await deps.database.db.delete(smsProviders).where(eq(smsProviders.id, id))
    .returning({ id: smsProviders.id });
  if (removed.length === 0) throw new ServiceError("notFound", `no SMS provider ${id}`);
}

/** Reports waiting for their message (operators), and the counts by provider and state. */
export async function listWaitingReports(
  deps: Pick<AppDeps, "database">,
  limit: number,
  after: number,
) {
  const [counts, items] = await Promise.all([
    execute<{ provider: string; state: string; count: number; oldest: string }>(
      deps.database,
      plans.reportCounts(),
    ),
    execute<Record<string, unknown> & { id: number }>(
      deps.database,
      plans.waitingReports(limit, after),
    ),
  ]);
  return {
    counts: counts.map((c) => ({ ...c, oldest: new Date(c.oldest).toISOString() })),
    items: items.map((r) => ({
      ...r,
      receivedAt: new Date(r.receivedAt as string).toISOString(),
      retryAt: r.retryAt && String(r.retryAt) !== "infinity"
        ? new Date(r.retryAt as string).toISOString()
        : null,
    })),
    next: items.length === limit ? String(items[items.length - 1]!.id) : null,
  };
}
