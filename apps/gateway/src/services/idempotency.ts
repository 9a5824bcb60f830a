import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { type Database, idempotencyKeys, isUniqueViolation } from "@sendgate/db";
import { ServiceError } from "./errors.ts";

/** A transaction of the gateway's database. */
export type Tx = Parameters<Parameters<Database["db"]["transaction"]>[0]>[0];

/** An `Idempotency-Key` and the hash of the request it came with. */
export interface Idempotency {
  key: string;
  hash: string;
}

/**
 * JSON with object keys sorted and no whitespace: the same value always gives the same text.
 * Meant for validated requests, whose nesting their schema bounds; past `maxDepth` it refuses
 * rather than recurse without end.
 */
export function canonicalJson(value: unknown, maxDepth = 64): string {
  if (maxDepth < 0) throw new RangeError("value nested too deep for a canonical form");
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v, maxDepth - 1)).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${
      entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, maxDepth - 1)}`).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The hash a key is compared on: the route and the parsed request, so that key order and
 * whitespace do not matter (the same JSON pretty-printed is the same request).
 */
export const requestHash = (route: string, request: unknown) =>
  createHash("sha256").update(route).update("\n").update(canonicalJson(request)).digest("hex");

const mismatch = () =>
  new ServiceError("idempotencyMismatch", "this Idempotency-Key was used for a different request");

export interface IdempotentResult<T> {
  status: number;
  body: T;
  /** True when the answer is the one stored for the key: nothing was written this time. */
  replayed: boolean;
}

/**
 * Runs `write` at most once per (instance, Idempotency-Key): in one transaction, a key already
 * stored replays its first answer (or is a 422 for another request); otherwise `write` runs and
 * its answer is stored with the key before commit. Two calls racing with one key: the second
 * blocks on the key's primary key until the first commits, fails with a unique violation, and is
 * answered as if it had come second. `stored` shapes what is kept (a new API key is never stored
 * in clear: its replay omits it).
 */
export async function idempotent<T>(
  database: Database,
  instanceId: string,
  idempotency: Idempotency | null,
  write: (tx: Tx) => Promise<{ status: number; body: T }>,
  stored: (body: T) => unknown = (body) => body,
): Promise<IdempotentResult<T>> {
  if (!idempotency) {
    const { status, body } = await database.db.transaction((tx) => write(tx));
    return { status, body, replayed: false };
  }
  const previous = async (db: Tx | Database["db"]) => {
    const [row] = await db.select().from(idempotencyKeys).where(
      and(eq(idempotencyKeys.instanceId, instanceId), eq(idempotencyKeys.key, idempotency.key)),
    );
    if (!row) return null;
    if (row.requestHash !== idempotency.hash) throw mismatch();
    return { status: row.status, body: row.body as T, replayed: true };
  };
  try {
    return await database.db.transaction(async (tx) => {
      const replay = await previous(tx);
      if (replay) return replay;
      const { status, body } = await write(tx);
      await tx.insert(idempotencyKeys).values({
        instanceId,
        key: idempotency.key,
        requestHash: idempotency.hash,
        status,
        body: stored(body),
      });
      return { status, body, replayed: false };
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const replay = await previous(database.db);
    if (!replay) throw error;
    return replay;
  }
}
