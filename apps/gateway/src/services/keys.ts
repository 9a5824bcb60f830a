import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { apiKeys, type Database, instances } from "@sendgate/db";

export interface Principal {
  keyId: string;
  instanceId: string;
  operator: boolean;
}

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

/** Finds or creates an instance by name. */
export async function ensureInstance(database: Database, name: string): Promise<string> {
  const { db } = database;
  await db.insert(instances).values({ name }).onConflictDoNothing();
  const [row] = await db.select({ id: instances.id }).from(instances).where(
    eq(instances.name, name),
  );
  return row!.id;
}

/** Creates a key for an instance and returns it in clear: the only time it is ever shown. */
export async function createKey(
  database: Database,
  instance: string,
  operator: boolean,
): Promise<{ key: string; instanceId: string; prefix: string }> {
  const instanceId = await ensureInstance(database, instance);
  const key = `sg_${randomBytes(32).toString("base64url")}`;
  const prefix = key.slice(0, 10);
  await database.db.insert(apiKeys).values({ instanceId, keyHash: hashKey(key), prefix, operator });
  return { key, instanceId, prefix };
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
