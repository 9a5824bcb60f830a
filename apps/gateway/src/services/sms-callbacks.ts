import { eq } from "drizzle-orm";
import { z } from "zod";
import { textProblem } from "@sendgate/core";
import { messageState, parseReceipt, parseReceiptDate } from "@sendgate/channels";
import { execute, type NewReportRow, plans, smsCallbacks, smsProviders } from "@sendgate/db";
import { CALLBACK_TOLERANCE_SECONDS, checkCallback } from "@sendgate/channels";
import type { AppDeps } from "../deps.ts";
import { fieldErrors } from "../errors.ts";
import type { FieldProblem } from "./errors.ts";
import type { SmsProviderSecrets } from "./sms-providers.ts";

/**
 * Delivery reports that SMS providers send by HTTP (`POST /v1/callbacks/sms/{provider}`), signed
 * with the provider's callback secret (see callback-signature.ts; docs/sms-callbacks.md). In
 * order: the provider and its secret, the size, the signature and its freshness, the body's
 * format, then, in one transaction, the call recorded as accepted (its signature is unique among
 * accepted calls, so a replay loses on the index, race-free) and its reports stored. Only then
 * does the provider get its 200; the reports are applied to their messages later, by the
 * dispatcher's `applyReports`, like SMPP receipts. Every call, refused or not, leaves a row in
 * `sms_callbacks` with what it was: never the secret, and of the body a bounded excerpt only.
 */

/** Bodies over this are refused unread (a batch of 1,000 reports is about 150 KiB). */
export const MAX_CALLBACK_BYTES = 256 * 1024;
export const MAX_CALLBACK_REPORTS = 1_000;

/** What the transport read of a call; it parses nothing itself (the signature is over the bytes). */
export interface CallbackCall {
  provider: string;
  contentType: string | undefined;
  signature: string | undefined;
  timestamp: string | undefined;
  /** The raw body; null when it was over MAX_CALLBACK_BYTES (and was not read further). */
  body: Uint8Array | null;
  requestId?: string | undefined;
}

/** Why a call is refused: the `outcome` recorded, and what the transport answers. */
export type CallbackRefusal =
  | "unknownProvider"
  | "tooLarge"
  | "unsigned"
  | "badSignature"
  | "stale"
  | "unsupportedMediaType"
  | "malformed"
  | "invalid";

export type CallbackResult =
  /** Stored (`duplicate`: the same signed call was accepted before; nothing stored again). */
  | { ok: true; accepted: number; duplicate: boolean }
  | { ok: false; refusal: CallbackRefusal; message: string; fields: FieldProblem[] };

// ---------------------------------------------------------------------------------------------
// The body's format

/** The 7-letter stats of SMPP 3.4 (and BUFFRED, which SMSCs send too), in canonical form. */
const CANONICAL_STATS = new Set<string>([...Object.keys(messageState), "BUFFRED"]);

/**
 * A stat word in canonical form (DELIVERED → DELIVRD), through the receipt parser's own alias
 * table so that a callback and an SMPP receipt read the same words; null for a word it does not
 * know. The word is checked to be letters first, so it cannot carry another field into the text.
 */
export function canonicalStat(word: string): string | null {
  if (!/^[A-Za-z_]{1,20}$/u.test(word.trim())) return null;
  const stat = parseReceipt(`stat:${word.trim()}`, { receipted_message_id: "-" })?.stat;
  return stat && CANONICAL_STATS.has(stat) ? stat : null;
}

const noDirt = (kind: "text" | "token") => (value: string, ctx: z.RefinementCtx) => {
  const problem = textProblem(value, kind);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
};

/** JSON numbers where ids and codes may come as numbers (form values are strings anyway). */
const numberAsText = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v),
    schema,
  );

/** ISO 8601 with an offset, or a receipt's `YYMMDDhhmm[ss]` (UTC); answered as ISO 8601. */
const reportDate = z.string().max(40).transform((value, ctx) => {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/iu
      .test(value)
    ? new Date(value)
    : undefined;
  const date = iso ?? parseReceiptDate(value);
  if (!date || Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) {
    ctx.addIssue({ code: "custom", message: "an ISO 8601 date with an offset, or YYMMDDhhmm[ss]" });
    return z.NEVER;
  }
  return date.toISOString();
});

/** One delivery report of a callback. Unknown fields are refused, as everywhere in the API. */
export const CallbackReport = z.object({
  messageId: numberAsText(
    z.string({ error: "required: the provider's message id" }).min(1).max(64)
      .superRefine(noDirt("token")),
  ).describe("The provider's message id (hex or decimal, leading zeros or not)"),
  stat: z.string({ error: "required: DELIVRD, UNDELIV, EXPIRED …" }).transform((word, ctx) => {
    const stat = canonicalStat(word);
    if (!stat) {
      ctx.addIssue({
        code: "custom",
        message: `not a receipt stat: one of ${[...CANONICAL_STATS].join(", ")} (or DELIVERED …)`,
      });
      return z.NEVER;
    }
    return stat;
  }).describe("DELIVRD, UNDELIV, EXPIRED, REJECTD … (any case; DELIVERED … too)"),
  err: numberAsText(
    z.string().max(10).regex(/^[A-Za-z0-9_-]*$/, "letters, digits, - and _"),
  ).transform((err) => (/^\d{1,2}$/u.test(err) ? err.padStart(3, "0") : err)).nullish()
    .describe("Network error code (default 000)"),
  doneDate: reportDate.nullish().describe("ISO 8601 with an offset, or YYMMDDhhmm[ss] UTC"),
  submitDate: reportDate.nullish().describe("ISO 8601 with an offset, or YYMMDDhhmm[ss] UTC"),
  text: z.string().max(255).superRefine(noDirt("text")).nullish(),
  reference: z.preprocess(
    (v) => (typeof v === "string" && /^\d{1,5}$/u.test(v) ? Number(v) : v),
    z.number().int().min(0).max(65_535),
  ).nullish().describe("The submit_sm's user_message_reference"),
}).strict();
export type CallbackReport = z.output<typeof CallbackReport>;

const Reports = z.array(CallbackReport).min(1, "at least one report").max(
  MAX_CALLBACK_REPORTS,
  `at most ${MAX_CALLBACK_REPORTS} reports per call`,
);
/** A JSON body: one report, an array of reports, or `{ reports: [...] }`. */
export const CallbackJsonBody = z.union([
  CallbackReport,
  Reports,
  z.object({ reports: Reports }).strict(),
]);

type Parsed =
  | { ok: true; reports: CallbackReport[] }
  | { ok: false; refusal: "malformed" | "invalid"; message: string; fields: FieldProblem[] };

function parseBody(mediaType: "json" | "form", text: string): Parsed {
  let value: unknown;
  if (mediaType === "json") {
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, refusal: "malformed", message: "the body is not JSON", fields: [] };
    }
  } else {
    const form: Record<string, string> = {};
    const twice: FieldProblem[] = [];
    for (const [key, v] of new URLSearchParams(text)) {
      if (Object.hasOwn(form, key)) twice.push({ path: key, message: "given twice" });
      form[key] = v;
    }
    if (twice.length) {
      return {
        ok: false,
        refusal: "invalid",
        message: "the body has invalid fields",
        fields: twice,
      };
    }
    value = form;
  }
  // The union's branch by the value's shape, so that errors name the fields of that branch.
  const schema = Array.isArray(value)
    ? Reports
    : value !== null && typeof value === "object" && "reports" in value
    ? z.object({ reports: Reports }).strict()
    : CallbackReport;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      refusal: "invalid",
      message: "the body has invalid fields",
      fields: fieldErrors(parsed.error.issues),
    };
  }
  const data = parsed.data;
  return {
    ok: true,
    reports: Array.isArray(data) ? data : "reports" in data ? data.reports : [data],
  };
}

const mediaTypeOf = (contentType: string | undefined): "json" | "form" | null => {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type === "application/json"
    ? "json"
    : type === "application/x-www-form-urlencoded"
    ? "form"
    : null;
};

// ---------------------------------------------------------------------------------------------
// Receiving a call

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/u;

/**
 * What a text from the wire may be in a row: bounded, and without what PostgreSQL cannot store
 * (NUL; a lone surrogate cannot come out of a UTF-8 decoder, but may from a header).
 */
const excerpt = (value: string | undefined, max: number) =>
  value?.slice(0, max).replaceAll("\u0000", "\ufffd").replace(/\p{Cs}/gu, "\ufffd");

const lenient = new TextDecoder("utf-8");

export async function receiveSmsCallback(
  deps: Pick<AppDeps, "database" | "now">,
  call: CallbackCall,
): Promise<CallbackResult> {
  const now = deps.now();
  const at = new Date(now);
  const provider = call.provider;
  const seen = {
    requestId: excerpt(call.requestId, 64),
    contentType: excerpt(call.contentType, 100),
    timestamp: excerpt(call.timestamp, 20),
    bytes: call.body?.length,
  };
  const refuse = async (
    refusal: CallbackRefusal,
    message: string,
    extra: { reason?: string; fields?: FieldProblem[]; signature?: string | undefined } = {},
  ): Promise<CallbackResult> => {
    const fields = extra.fields ?? [];
    await deps.database.db.insert(smsCallbacks).values({
      provider: excerpt(provider, 64)!,
      signature: excerpt(extra.signature ?? call.signature, 100) ?? null,
      outcome: refusal,
      detail: {
        ...seen,
        ...(extra.reason ? { reason: extra.reason } : {}),
        message,
        ...(fields.length ? { fields: fields.slice(0, 20), fieldCount: fields.length } : {}),
        ...(call.body ? { excerpt: excerpt(lenient.decode(call.body.subarray(0, 800)), 200) } : {}),
      },
      receivedAt: at,
    });
    return { ok: false, refusal, message, fields };
  };

  // 1. Whose call: a provider that has a callback secret. The same answer when there is no such
  // provider and when it has no secret: either way nobody can sign for it.
  const [found] = PROVIDER_ID.test(provider)
    ? await deps.database.db.select({ secrets: smsProviders.secrets }).from(smsProviders)
      .where(eq(smsProviders.id, provider))
    : [];
  const secret = (found?.secrets as SmsProviderSecrets | undefined)?.callbackSecret;
  if (!secret) {
    return await refuse(
      "unknownProvider",
      `no SMS provider ${JSON.stringify(provider.slice(0, 64))} takes callbacks`,
      {
        reason: found ? "the provider has no callbackSecret" : "no such provider",
      },
    );
  }
  if (call.body === null) {
    return await refuse("tooLarge", `the body is over ${MAX_CALLBACK_BYTES} bytes`);
  }

  // 2. Who signed it, and when.
  const check = checkCallback(secret, call, call.body, { now });
  if (!check.ok) {
    switch (check.reason) {
      case "unsigned":
        return await refuse(
          "unsigned",
          "unsigned: send X-Sendgate-Timestamp and X-Sendgate-Signature",
        );
      case "malformed":
        return await refuse(
          "badSignature",
          "bad signature: X-Sendgate-Signature is sha256=<64 hex digits>, X-Sendgate-Timestamp unix seconds",
          { reason: "malformed" },
        );
      case "mismatch":
        return await refuse(
          "badSignature",
          "bad signature: it does not match the timestamp and body with this provider's secret",
          { reason: "mismatch" },
        );
      case "stale": {
        const skew = Math.round(now / 1000 - Number(call.timestamp));
        return await refuse(
          "stale",
          `stale: the timestamp is ${Math.abs(skew)} s ${
            skew > 0 ? "behind" : "ahead of"
          } the gateway's clock (at most ${CALLBACK_TOLERANCE_SECONDS} s)`,
        );
      }
    }
  }

  // 3. What it says.
  const mediaType = mediaTypeOf(call.contentType);
  if (!mediaType) {
    return await refuse(
      "unsupportedMediaType",
      "send application/json or application/x-www-form-urlencoded",
      { signature: check.signature },
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(call.body);
  } catch {
    return await refuse("malformed", "the body is not UTF-8", { signature: check.signature });
  }
  const parsed = parseBody(mediaType, text);
  if (!parsed.ok) {
    return await refuse(parsed.refusal, parsed.message, {
      fields: parsed.fields,
      signature: check.signature,
    });
  }

  // 4. Recorded and stored together: a replay conflicts on the accepted signature, a failure
  // stores neither (and the provider's retry is not taken for a replay).
  const stored = await deps.database.db.transaction(async (tx) => {
    const [row] = await tx.insert(smsCallbacks).values({
      provider,
      signature: check.signature,
      outcome: "accepted",
      detail: { ...seen, reports: parsed.reports.length },
      receivedAt: at,
    }).onConflictDoNothing().returning({ id: smsCallbacks.id });
    if (!row) return false;
    const rows: NewReportRow[] = parsed.reports.map((r) => ({
      provider,
      source: "http",
      remoteId: r.messageId,
      stat: r.stat,
      // Absent, as the receipt parser reads an SMPP receipt without one: the same
      // qualification text (`SR <provider> <stat> 000`) whichever way the report came.
      err: r.err || "000",
      text: r.text ?? null,
      doneAt: r.doneDate ?? null,
      detail: {
        callback: row.id,
        ...(r.submitDate ? { submitDate: r.submitDate } : {}),
        ...(r.reference !== undefined && r.reference !== null ? { reference: r.reference } : {}),
      },
    }));
    await execute(tx, plans.insertReports(rows, at.toISOString()));
    return true;
  });
  if (!stored) {
    // The same signed bytes again (a retry whose 200 was lost, or a replay): its reports are
    // stored already. Answered as a success so that an honest provider stops retrying; an
    // attacker replaying it gains nothing, since nothing more is stored.
    await deps.database.db.insert(smsCallbacks).values({
      provider,
      signature: check.signature,
      outcome: "replayed",
      detail: { ...seen, reports: parsed.reports.length },
      receivedAt: at,
    });
    return { ok: true, accepted: 0, duplicate: true };
  }
  return { ok: true, accepted: parsed.reports.length, duplicate: false };
}
