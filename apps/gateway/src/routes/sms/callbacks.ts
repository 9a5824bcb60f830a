import { Buffer } from "node:buffer";
import { z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../../deps.ts";
import { ApiError, type ProblemCode } from "../../errors.ts";
import {
  CallbackJsonBody,
  CallbackReport,
  type CallbackResult,
  MAX_CALLBACK_BYTES,
  receiveSmsCallback,
} from "../../services/sms-callbacks.ts";
import { signatureHeader, timestampHeader } from "@sendgate/channels";
import { defineRoute, Problem } from "../common.ts";

/**
 * `POST /v1/callbacks/sms/{provider}`: delivery reports from providers that send them by HTTP.
 * No API key: the provider signs each call with its callback secret (HMAC-SHA256 over timestamp
 * and body), so the body is read here as bytes, once, and handed over unparsed: the service
 * checks the signature over exactly those bytes before it reads a field. The formats and answers
 * are in docs/sms-callbacks.md.
 */
const problem = (description: string) => ({
  content: { "application/problem+json": { schema: Problem } },
  description,
});

const receive = defineRoute({
  method: "post",
  path: "/v1/callbacks/sms/{provider}",
  tags: ["sms"],
  summary: "Delivery reports from an SMS provider, signed with its callback secret",
  description:
    "Authenticated by `X-Sendgate-Timestamp` (unix seconds) and `X-Sendgate-Signature: " +
    'sha256=<hex HMAC-SHA256(callbackSecret, "<timestamp>.<raw body>")>`, not by an API key. ' +
    "JSON (one report, an array, or `{reports: [...]}`, up to 1,000) or one report form-encoded; " +
    `at most ${MAX_CALLBACK_BYTES} bytes. The reports are stored before the 200, and applied to ` +
    "their messages shortly after. The same signed call again answers 200 with `duplicate: true` " +
    "and stores nothing.",
  security: [],
  request: {
    params: z.object({ provider: z.string().openapi({ example: "acme" }) }),
    // Documented, not validated by the framework: the signature is over the raw bytes, which a
    // validator would have consumed.
    body: {
      content: {
        "application/json": { schema: { $ref: "#/components/schemas/SmsCallbackBody" } },
        "application/x-www-form-urlencoded": {
          schema: { $ref: "#/components/schemas/SmsCallbackReport" },
        },
      },
      required: true,
    },
  },
  responses: {
    200: {
      content: {
        "application/json": {
          schema: z.object({
            accepted: z.number().int().openapi({ description: "Reports stored by this call" }),
            duplicate: z.boolean().optional().openapi({
              description: "The same signed call was accepted before: nothing stored again",
            }),
          }),
        },
      },
      description: "Stored",
    },
    400: problem("Malformed body, or invalid fields (each named, e.g. `reports.3.stat`)"),
    401: problem("Unsigned, wrongly signed, or stale (timestamp over 5 minutes from now)"),
    404: problem("No such provider, or one without a callback secret"),
    413: problem(`Body over ${MAX_CALLBACK_BYTES} bytes`),
    415: problem("Neither application/json nor application/x-www-form-urlencoded"),
  },
});

/** The problem each refusal is, over HTTP: the one mapping, exhaustive. */
const problemOf = (result: Extract<CallbackResult, { ok: false }>): ApiError => {
  const code: ProblemCode = (() => {
    switch (result.refusal) {
      case "unknownProvider":
        return "notFound";
      case "tooLarge":
        return "tooLarge";
      case "unsigned":
      case "badSignature":
      case "stale":
        return "unauthorized";
      case "unsupportedMediaType":
        return "unsupportedMediaType";
      case "malformed":
        return "malformed";
      case "invalid":
        return "validation";
    }
  })();
  return new ApiError(code, result.message, result.fields.length ? [...result.fields] : undefined);
};

/** The body's bytes, or null past `max` (read no further than that). */
async function readCapped(request: Request, max: number): Promise<Uint8Array | null> {
  if (Number(request.headers.get("content-length") ?? 0) > max) return null;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function registerSmsCallbackRoutes(app: App, deps: AppDeps): void {
  app.openAPIRegistry.register("SmsCallbackReport", CallbackReport);
  app.openAPIRegistry.register("SmsCallbackBody", CallbackJsonBody);
  app.openapi(receive, async (c) => {
    const result = await receiveSmsCallback(deps, {
      provider: c.req.valid("param").provider,
      contentType: c.req.header("content-type"),
      signature: c.req.header(signatureHeader),
      timestamp: c.req.header(timestampHeader),
      body: await readCapped(c.req.raw, MAX_CALLBACK_BYTES),
      requestId: c.get("requestId"),
    });
    if (!result.ok) throw problemOf(result);
    return c.json(
      result.duplicate ? { accepted: 0, duplicate: true } : { accepted: result.accepted },
      200,
    );
  });
}
