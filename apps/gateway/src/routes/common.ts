import { z } from "@hono/zod-openapi";
import { Buffer } from "node:buffer";

/** The problem+json body (RFC 9457) every error answers with. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

const problem = (description: string) => ({
  content: { "application/problem+json": { schema: Problem } },
  description,
});

/** The error answers shared by /v1 routes, for the OpenAPI document. */
export const errorResponses = {
  400: problem("Malformed body or invalid fields (each invalid field path is named)"),
  401: problem("Missing or invalid API key"),
  429: problem("Rate limit reached (see Retry-After)"),
} as const;
export const notFound = { 404: problem("Unknown id, or another instance's") } as const;
export const conflict = { 409: problem("Not allowed in the resource's current state") } as const;
export const forbidden = { 403: problem("Operator key required") } as const;
export const tooLarge = { 413: problem("Body over the size limit") } as const;

/** Opaque cursor for keyset paging. */
export const Cursor = z.string().max(200).optional().openapi({
  description: "Cursor from the previous page's `nextCursor`",
});
export const Limit = z.coerce.number().int().min(1).max(1000).default(100);

/** One page of a list: its items and the cursor of the next page (null on the last). */
export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const encodeCursor = (value: unknown) =>
  Buffer.from(JSON.stringify(value)).toString("base64url");
export function decodeCursor<T>(cursor: string | undefined): T | null {
  if (!cursor) return null;
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as T;
  } catch {
    return null;
  }
}
