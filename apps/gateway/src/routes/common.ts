import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { Buffer } from "node:buffer";
import { ApiError } from "../errors.ts";
import { type Idempotency, requestHash } from "../services/idempotency.ts";
import { text } from "./fields.ts";

/** The problem+json body (RFC 9457) every error answers with. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({
    description: "The fields at fault (at most 200)",
  }),
  errorCount: z.number().int().optional().openapi({
    description: "How many field errors there were, when more than the 200 listed",
  }),
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

export const Limit = z.coerce.number().int().min(1).max(1000).default(100);

/** One page of a list: its items and the cursor of the next page (null on the last). */
export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** The `cursor` query parameter of every list route: opaque to the caller. */
export const CursorParam = z.string().max(1000).optional().openapi({
  description: "Cursor from the previous page's `nextCursor`",
});

/**
 * A keyset cursor: the last row's key, as base64url JSON. One helper for every list route: a
 * cursor is checked against its list's key schema when decoded, so a forged or truncated one is a
 * 400 naming `query.cursor`, never a value the database cannot compare.
 */
export function pageCursor<T extends z.ZodType>(key: T) {
  return {
    encode: (value: z.infer<T>): string => Buffer.from(JSON.stringify(value)).toString("base64url"),
    /** The key of the page's last row, or null for the first page. */
    decode(cursor: string | undefined): z.infer<T> | null {
      if (cursor === undefined || cursor === "") return null;
      let value: unknown;
      try {
        if (!/^[A-Za-z0-9_-]+$/u.test(cursor)) throw new Error("not base64url");
        value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      } catch {
        value = undefined;
      }
      const parsed = key.safeParse(value);
      if (!parsed.success) {
        throw new ApiError("validation", "invalid cursor", [{
          path: "query.cursor",
          message: "not a cursor from this list",
        }]);
      }
      return parsed.data;
    },
  };
}

/** The `Idempotency-Key` header of creating POSTs. */
export const IdempotencyHeader = z.object({
  "idempotency-key": text(200, "token", 1).optional().openapi({
    description:
      "Makes a retried call safe: the same key with the same request (compared parsed: key order and " +
      "whitespace do not matter) replays the first answer with status 200 and writes nothing; with another " +
      "request it is a 422. Keys belong to the instance.",
  }),
});

/** The query of a route that takes no parameter: an unknown one is a 400, as unknown body fields. */
export const NoQuery = z.object({}).strict();

/** The idempotency of a call, from its validated header, route and parsed body. */
export function idempotencyOf(
  header: { "idempotency-key"?: string | undefined },
  route: string,
  request: unknown,
): Idempotency | null {
  const key = header["idempotency-key"];
  return key ? { key, hash: requestHash(route, request) } : null;
}

/** Headers of a replayed answer. */
export const replayHeaders = (replayed: boolean): Record<string, string> =>
  replayed ? { "idempotent-replayed": "true" } : {};

export const unprocessable = {
  422: problem("Idempotency-Key reused for a different request"),
} as const;

export const unsupportedMediaType = {
  415: problem("The body's Content-Type is not one this route takes"),
} as const;

/**
 * `createRoute` with the conventions every route shares: the query is strict (an unknown
 * parameter is a 400 naming it, as an unknown body field is), and a route without query
 * parameters refuses any.
 */
export function defineRoute<R extends RouteConfig>(config: R): R {
  const request = config.request ?? {};
  const query = request.query ? (request.query as z.ZodObject).strict() : NoQuery;
  // A route with a body answers 415 for a media type it does not take: say so in the document.
  const responses = request.body
    ? { ...unsupportedMediaType, ...config.responses }
    : config.responses;
  return createRoute({ ...config, request: { ...request, query }, responses }) as R;
}
