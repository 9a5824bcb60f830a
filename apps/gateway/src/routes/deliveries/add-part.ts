import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../app.ts";
import { ApiError, fieldErrors } from "../../errors.ts";
import { addPart, requestHash } from "../../services/deliveries.ts";
import { conflict, errorResponses, notFound, tooLarge } from "../common.ts";
import { MAX_PART, PartBody, PartResult, Recipient } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/deliveries/{id}/parts",
  tags: ["deliveries"],
  summary: "Append up to 10,000 recipients (JSON or NDJSON); written whole or not at all",
  description:
    "Recipients are prepared at once: duplicates, missing, denylisted and quarantined addresses, the control " +
    "group and the target size limit become ignored messages, counted by reason. Invalid addresses are reported per " +
    "recipient under `rejected` and not written; the rest of the part is written in one transaction. With an " +
    "`Idempotency-Key` header, a retried call returns the first answer and writes nothing twice.",
  request: {
    params: z.object({ id: z.string() }),
    headers: z.object({ "idempotency-key": z.string().min(1).max(200).optional() }),
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

/** Parses NDJSON: one recipient per non-empty line; every bad line is named. */
function parseNdjson(text: string): Recipient[] {
  const recipients: Recipient[] = [];
  const errors: { path: string; message: string }[] = [];
  text.split(/\r?\n/u).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      errors.push({ path: `line ${i + 1}`, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = Recipient.safeParse(value);
    if (parsed.success) recipients.push(parsed.data);
    else {errors.push(
        ...fieldErrors(parsed.error.issues, `recipients.${recipients.length + errors.length}`),
      );}
  });
  if (errors.length) throw new ApiError("validation", "the part has invalid recipients", errors);
  if (recipients.length === 0) {
    throw new ApiError("validation", "the part has no recipient", [{
      path: "recipients",
      message: "at least one",
    }]);
  }
  if (recipients.length > MAX_PART) {
    throw new ApiError("validation", `at most ${MAX_PART} recipients per part`, [{
      path: "recipients",
      message: `${recipients.length} given`,
    }]);
  }
  return recipients;
}

export function register(app: App, deps: AppDeps) {
  // Documented in the OpenAPI registry but validated by hand: the same route takes JSON and NDJSON,
  // checked by the same schema, and a generated validator would refuse one of the two.
  app.openAPIRegistry.registerPath(route);
  app.post("/v1/deliveries/:id/parts", async (c) => {
    const id = c.req.param("id");
    const key = c.req.header("idempotency-key");
    if (key !== undefined && (key.length === 0 || key.length > 200)) {
      throw new ApiError("validation", "invalid Idempotency-Key", [{
        path: "header.idempotency-key",
        message: "1 to 200 characters",
      }]);
    }
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const text = await c.req.text();
    let recipients: Recipient[];
    if (type === "application/x-ndjson" || type === "application/ndjson") {
      recipients = parseNdjson(text);
    } else if (type === "application/json") {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new ApiError("malformed", `the body is not JSON: ${(error as Error).message}`);
      }
      const parsed = PartBody.safeParse(value);
      if (!parsed.success) {
        throw new ApiError(
          "validation",
          "the part has invalid fields",
          fieldErrors(parsed.error.issues),
        );
      }
      recipients = parsed.data.recipients;
    } else {
      throw new ApiError("unsupportedMediaType", "send application/json or application/x-ndjson");
    }
    const idempotency = key ? { key, hash: requestHash(["parts", id, type, text]) } : null;
    const { answer, replayed } = await addPart(
      deps,
      c.get("principal"),
      id,
      recipients,
      idempotency,
    );
    return c.json(answer, replayed ? 200 : 201);
  });
}
