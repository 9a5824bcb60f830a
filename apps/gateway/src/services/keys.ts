import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { apiKeys, type Database, instances } from "@sendgate/db";
import { ServiceError } from "./errors.ts";
import { isUuid } from "../ids.ts";
import type { Tx } from "./idempotency.ts";

export interface Principal {
  keyId: string;
  instanceId: string;
  operator: boolean;
}

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

type Db = Database["db"] | Tx;

/** Finds or creates an instance by name. */
export async function ensureInstance(db: Database | Db, name: string): Promise<string> {
  const d = "db" in db ? db.db : db;
  await d.insert(instances).values({ name }).onConflictDoNothing();
  const [row] = await d.select({ id: instances.id }).from(instances).where(
    eq(instances.name, name),
  );
  return row!.id;
}

/** A key as operators see it: never the key, never its hash. */
export interface KeyView {
  id: string;
  instance: string;
  prefix: string;
  operator: boolean;
  createdAt: string;
  revokedAt: string | null;
}

/**
 * Creates a key for an instance (created if new) and returns it in clear: the only time it is
 * ever shown. Only its SHA-256 hash is stored.
 */
export async function createKey(
  database: Database | Db,
  instance: string,
  operator: boolean,
): Promise<KeyView & { key: string; instanceId: string }> {
  const db = "db" in database ? database.db : database;
  const instanceId = await ensureInstance(db, instance);
  const key = `sg_${randomBytes(32).toString("base64url")}`;
  const prefix = key.slice(0, 10);
  const [row] = await db.insert(apiKeys).values({
    instanceId,
    keyHash: hashKey(key),
    prefix,
    operator,
  }).returning();
  return { ...keyView(row!, instance), key, instanceId };
}

const keyView = (row: typeof apiKeys.$inferSelect, instance: string): KeyView => ({
  id: row.id,
  instance,
  prefix: row.prefix,
  operator: row.operator,
  createdAt: row.createdAt.toISOString(),
  revokedAt: row.revokedAt ? row.revokedAt.toISOString() : null,
});

/** Every key (or an instance's), oldest first. */
export async function listKeys(database: Database, q: { instance?: string | undefined }) {
  const filters = q.instance ? [eq(instances.name, q.instance)] : [];
  const rows = await database.db.select({ key: apiKeys, instance: instances.name }).from(apiKeys)
    .innerJoin(instances, eq(instances.id, apiKeys.instanceId)).where(and(...filters))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return { items: rows.map((r) => keyView(r.key, r.instance)) };
}

/** Revokes a key (kept, with its revocation date). Revoking a revoked key changes nothing. */
export async function revokeKey(database: Database, id: string, at: number): Promise<KeyView> {
  if (!isUuid(id)) throw new ServiceError("notFound", `no key ${id}`);
  const [row] = await database.db.select({ key: apiKeys, instance: instances.name }).from(apiKeys)
    .innerJoin(instances, eq(instances.id, apiKeys.instanceId)).where(eq(apiKeys.id, id));
  if (!row) throw new ServiceError("notFound", `no key ${id}`);
  if (row.key.revokedAt) return keyView(row.key, row.instance);
  const [updated] = await database.db.update(apiKeys).set({ revokedAt: new Date(at) })
    .where(eq(apiKeys.id, id)).returning();
  return keyView(updated!, row.instance);
}

/** Registers a key given in configuration (SENDGATE_ADMIN_KEY) as an operator key, once. */
export async function bootstrapKey(
  database: Database,
  instance: string,
  key: string,
): Promise<void> {
  const instanceId = await ensureInstance(database, instance);
  await database.db.insert(apiKeys)
    .values({ instanceId, keyHash: hashKey(key), prefix: key.slice(0, 10), operator: true })
    .onConflictDoNothing();
}

export async function verifyKey(database: Database, key: string): Promise<Principal | null> {
  const [row] = await database.db
    .select({ keyId: apiKeys.id, instanceId: apiKeys.instanceId, operator: apiKeys.operator })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashKey(key)), isNull(apiKeys.revokedAt)));
  return row ?? null;
}
