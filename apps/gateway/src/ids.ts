/**
 * Ids in paths. A malformed id names no resource, so it answers 404 like an unknown one (and never
 * reaches the database, where a non-UUID would be a cast error).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

export const isUuid = (id: string) => UUID.test(id);

/** A positive integer id no larger than `max` (a column's range), or null. */
export function integerId(id: string, max = Number.MAX_SAFE_INTEGER): number | null {
  if (!/^[1-9]\d{0,15}$/u.test(id)) return null;
  const n = Number(id);
  return n <= max ? n : null;
}
