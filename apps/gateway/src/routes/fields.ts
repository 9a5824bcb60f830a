import { z } from "@hono/zod-openapi";
import { jsonTextIssues, type TextKind, textProblem } from "@sendgate/core";

/**
 * Field schemas shared by the routes, each bounded by what the column, PostgreSQL and the
 * protocols can carry, so that bad input is a 400 naming the field and never a database error.
 */

/**
 * A text of `kind` (see core `textProblem`). The issue carries `params.text` so that routes that
 * take records one by one (parts) can tell dirty data in one record from a malformed request.
 */
export const text = (max: number, kind: TextKind = "text", min = 0) =>
  z.string().min(min).max(max).superRefine((value, ctx) => {
    const problem = textProblem(value, kind);
    if (problem) ctx.addIssue({ code: "custom", message: problem, params: { text: true } });
  });

type Issue = { code?: string; params?: unknown; message: string; issues?: Issue[] };

/**
 * Whether a zod issue is about dirty text (NUL, surrogate, control character) only: in a value,
 * or in a record's key (zod reports those as `invalid_key` around the key's own issues).
 */
export const isTextIssue = (issue: Issue): boolean =>
  (issue.code === "custom" && (issue.params as { text?: boolean } | undefined)?.text === true) ||
  (issue.code === "invalid_key" && (issue.issues ?? []).length > 0 &&
    issue.issues!.every(isTextIssue));

/** A text issue's message, a key's saying so. */
export const textIssueMessage = (issue: Issue): string =>
  issue.code === "invalid_key" ? `field name ${issue.issues![0]!.message}` : issue.message;

/** Free JSON (push `data`): every string and key checked, nesting bounded. */
export const jsonObject = (maxDepth = 16) =>
  z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    for (const issue of jsonTextIssues(value, { maxDepth, limit: 10 })) {
      ctx.addIssue({
        code: "custom",
        path: issue.path,
        message: issue.message,
        params: { text: true },
      });
    }
  });

export const INT32_MAX = 2_147_483_647;
/** A PostgreSQL `integer` column. */
export const int32 = (min = 0) => z.number().int().min(min).max(INT32_MAX);

/** The dates PostgreSQL and every client agree on: ISO 8601 with an offset, years 1970 to 9999. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const timestamp = () =>
  z.string().datetime({ offset: true }).refine((s) => {
    const t = Date.parse(s);
    // Not a date at all: the format check says so, once.
    return Number.isNaN(t) || (t >= EARLIEST && t <= LATEST);
  }, "a date between 1970-01-01 and 9999-12-31");

/** Reason codes in query strings. */
export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * `schema.regex(re, message)` whose OpenAPI `pattern` is the regex's source: zod-to-openapi writes
 * `re.toString()` without its slashes, which keeps the flags (`^[a-z]+$/u`, not a pattern any
 * JSON Schema validator reads right).
 */
export const matching = (schema: z.ZodString, re: RegExp, message: string) =>
  schema.regex(re, message).openapi({ pattern: re.source });
