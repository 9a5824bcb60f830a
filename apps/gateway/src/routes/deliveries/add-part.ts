import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { ApiError, type FieldError, fieldErrors } from "../../errors.ts";
import { addPart, type RejectedRecipient } from "../../services/deliveries.ts";
import { requestHash } from "../../services/idempotency.ts";
import {
  conflict,
  defineRoute,
  errorResponses,
  IdempotencyHeader,
  notFound,
  replayHeaders,
  tooLarge,
} from "../common.ts";
import { isTextIssue, textIssueMessage } from "../fields.ts";
import { MAX_PART, PartBody, PartResult, Recipient } from "./schemas.ts";

const route = defineRoute({
  method: "post",
  path: "/v1/deliveries/{id}/parts",
  tags: ["deliveries"],
  summary: "Append up to 10,000 recipients (JSON or NDJSON); written whole or not at all",
  description:
    "Recipients are prepared at once: duplicates, missing, denylisted and quarantined addresses, the control " +
    "group and the target size limit become ignored messages, counted by reason. Invalid addresses are reported per " +
    "recipient under `rejected` and not written, as are recipients whose texts cannot be stored or sent (a NUL " +
    "character, a lone surrogate, a control character in an id), each named by index and field; the rest of the " +
    "part is written in one transaction. A malformed recipient (wrong type, unknown field) fails the part (400). With an " +
    "`Idempotency-Key` header, a retried call returns the first answer and writes nothing twice.",
  request: {
    params: z.object({ id: z.string() }),
    headers: IdempotencyHeader,
    body: {
      content: {
        "application/json": { schema: PartBody },
        "application/x-ndjson": {
          schema: z.string().openapi({ description: "One Recipient JSON object per line" }),
        },
      },
      required: true,
    },
  },
  responses: {
    201: { content: { "application/json": { schema: PartResult } }, description: "Written" },
    200: {
      content: { "application/json": { schema: PartResult } },
      description: "Replayed: the first answer for this Idempotency-Key",
    },
    ...errorResponses,
    ...notFound,
    ...conflict,
    ...tooLarge,
    415: {
      content: { "application/problem+json": { schema: z.unknown() } },
      description: "Neither JSON nor NDJSON",
    },
    422: {
      content: { "application/problem+json": { schema: z.unknown() } },
      description: "Idempotency-Key reused for another request",
    },
  },
});

const Envelope = z.object({ recipients: z.array(z.unknown()).min(1).max(MAX_PART) }).strict();

/** An NDJSON line that is not JSON: reported by its line number, not checked as a recipient. */
const NOT_JSON = Symbol("not JSON");

/**
 * The raw recipients of a JSON or NDJSON body, by index (NDJSON: the non-empty lines), and the
 * lines that are not JSON. A JSON body that is not one fails at once.
 */
function rawRecipients(type: string, text: string): { raw: unknown[]; errors: FieldError[] } {
  if (type === "application/json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // A SyntaxError, or a RangeError for nesting too deep for the parser.
      throw new ApiError("malformed", `the body is not JSON: ${(error as Error).message}`);
    }
    const parsed = Envelope.safeParse(value);
    if (!parsed.success) {
      throw new ApiError(
        "validation",
        "the part has invalid fields",
        fieldErrors(parsed.error.issues),
      );
    }
    return { raw: parsed.data.recipients, errors: [] };
  }
  const raw: unknown[] = [];
  const errors: FieldError[] = [];
  text.split(/\r?\n/u).forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      raw.push(JSON.parse(line));
    } catch (error) {
      raw.push(NOT_JSON);
      errors.push({ path: `line ${i + 1}`, message: `not JSON: ${(error as Error).message}` });
    }
  });
  if (raw.length === 0) {
    throw new ApiError("validation", "the part has no recipient", [{
      path: "recipients",
      message: "at least one",
    }]);
  }
  if (raw.length > MAX_PART) {
    throw new ApiError("validation", `at most ${MAX_PART} recipients per part`, [{
      path: "recipients",
      message: `${raw.length} given`,
    }]);
  }
  return { raw, errors };
}

/**
 * Checks each recipient. A malformed one (wrong type, unknown field, too long) fails the part: the
 * caller's code is wrong and should know. One whose texts cannot be stored or sent (NUL, lone
 * surrogate, control character: dirty data from an export) is refused alone, by index and field,
 * and the rest of the part is written.
 */
function checkRecipients({ raw, errors }: { raw: unknown[]; errors: FieldError[] }) {
  const recipients = new Map<number, Recipient>();
  const refused: RejectedRecipient[] = [];
  raw.forEach((value, index) => {
    if (value === NOT_JSON) return;
    const parsed = Recipient.safeParse(value);
    if (parsed.success) {
      recipients.set(index, parsed.data);
      return;
    }
    if (!parsed.error.issues.every(isTextIssue)) {
      errors.push(...fieldErrors(parsed.error.issues, `recipients.${index}`));
      return;
    }
    const issue = parsed.error.issues[0]!;
    const r = value as { externalId?: unknown; address?: unknown };
    refused.push({
      index,
      externalId: typeof r.externalId === "string" ? storable(r.externalId) : "",
      field: storable(issue.path.map(String).join(".")),
      address: storable(r.address ?? null),
      error: textIssueMessage(issue),
    });
  });
  if (errors.length) throw new ApiError("validation", "the part has invalid recipients", errors);
  return { received: raw.length, recipients, refused };
}

export function register(app: App, deps: AppDeps) {
  // Documented in the OpenAPI registry but validated by hand: the same route takes JSON and NDJSON,
  // checked by the same schema, and a generated validator would refuse one of the two.
  app.openAPIRegistry.registerPath(route);
  app.post("/v1/deliveries/:id/parts", async (c) => {
    const id = c.req.param("id");
    const headers = IdempotencyHeader.safeParse({
      "idempotency-key": c.req.header("idempotency-key"),
    });
    if (!headers.success) {
      throw new ApiError(
        "validation",
        "invalid Idempotency-Key",
        fieldErrors(headers.error.issues, "header"),
      );
    }
    const unknown = Object.keys(c.req.query());
    if (unknown.length) {
      throw new ApiError(
        "validation",
        "this route takes no query parameter",
        unknown.map((name) => ({
          path: `query.${name}`,
          message: "unknown parameter",
        })),
      );
    }
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (!PART_TYPES.has(type)) {
      throw new ApiError("unsupportedMediaType", "send application/json or application/x-ndjson");
    }
    const sent = rawRecipients(type, await c.req.text());
    const part = checkRecipients(sent);
    const key = headers.data["idempotency-key"];
    // Compared on the parsed recipients: JSON or NDJSON, key order and spacing do not matter.
    // (The validated ones: their depth is bounded by the schema, a raw body's is not.)
    const idempotency = key
      ? {
        key,
        hash: requestHash(`parts ${id}`, {
          recipients: [...part.recipients],
          refused: part.refused,
        }),
      }
      : null;
    const { body, replayed } = await addPart(deps, c.get("principal"), id, part, idempotency);
    return c.json(body, replayed ? 200 : 201, replayHeaders(replayed));
  });
}

/**
 * A refused recipient's values as the answer echoes them: what cannot be stored (NUL, lone
 * surrogates) becomes U+FFFD, so that the answer itself can be kept for an Idempotency-Key replay.
 * The error says what was there, and `index` finds the record.
 */
function storable<T>(value: T): T {
  if (typeof value === "string") {
    // deno-lint-ignore no-control-regex
    return value.replace(/\u0000|\p{Cs}/gu, "\uFFFD") as T;
  }
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [storable(k), storable(v)]),
    ) as T;
  }
  return value;
}

const PART_TYPES = new Set(["application/json", "application/x-ndjson", "application/ndjson"]);
