import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The gateway's error codes: a closed set, each mapped once to an HTTP status and a title. */
export const problems = {
  malformed: { status: 400, title: "Malformed request body" },
  validation: { status: 400, title: "Invalid request" },
  unauthorized: { status: 401, title: "Missing or invalid API key" },
  forbidden: { status: 403, title: "Operator key required" },
  notFound: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict with the resource's state" },
  tooLarge: { status: 413, title: "Request body too large" },
  unsupportedMediaType: { status: 415, title: "Unsupported media type" },
  idempotencyMismatch: { status: 422, title: "Idempotency-Key reused for a different request" },
  rateLimited: { status: 429, title: "Too many requests" },
  unavailable: { status: 503, title: "Service unavailable" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemCode = keyof typeof problems;

export interface FieldError {
  /** JSON path of the invalid field, e.g. `recipients.3.address`. */
  path: string;
  message: string;
}

/** An expected failure of a request, turned into RFC 9457 problem+json at the edge. */
export class ApiError extends Error {
  constructor(
    readonly code: ProblemCode,
    message?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? problems[code].title);
  }
}

/** Field errors listed in one problem at most; `errorCount` says how many there were. */
export const MAX_FIELD_ERRORS = 200;

export function problemResponse(c: Context, error: ApiError): Response {
  const { status, title } = problems[error.code];
  const body: Record<string, unknown> = {
    type: `urn:sendgate:problem:${error.code}`,
    title,
    status,
    detail: error.message,
    instance: new URL(c.req.url).pathname,
  };
  if (error.errors?.length) {
    // A 10,000-recipient part with one wrong field in each would otherwise answer megabytes.
    body.errors = error.errors.slice(0, MAX_FIELD_ERRORS);
    if (error.errors.length > MAX_FIELD_ERRORS) {
      body.detail =
        `${error.message} (the first ${MAX_FIELD_ERRORS} of ${error.errors.length} errors)`;
      body.errorCount = error.errors.length;
    }
  }
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
    ...error.headers,
  });
}

/** zod issues → one field error per failing path. */
export function fieldErrors(
  issues: readonly {
    path: readonly PropertyKey[];
    message: string;
    code?: string;
    keys?: readonly string[];
  }[],
  prefix = "",
): FieldError[] {
  const at = (path: readonly PropertyKey[]) =>
    [prefix, ...path.map(String)].filter(Boolean).join(".") || "(body)";
  return issues.flatMap((issue) =>
    // An unknown field is named by its own path, not its parent's.
    issue.code === "unrecognized_keys" && issue.keys?.length
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
      : [{ path: at(issue.path), message: issue.message }]
  );
}
