import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Delivery receipts as HTTP callbacks, the way HTTP SMS providers send them. Signing scheme:
 *
 *   X-Sendgate-Timestamp: <unix seconds>
 *   X-Sendgate-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed bytes, so a captured callback cannot be replayed later with
 * a fresh timestamp; the receiver rejects timestamps outside a tolerance (5 minutes by default)
 * and compares signatures in constant time.
 */
export const signatureHeader = "x-sendgate-signature";
export const timestampHeader = "x-sendgate-timestamp";

export interface CallbackBody {
  messageId: string;
  stat: string;
  err: string;
  /** ISO 8601. */
  doneDate: string;
  submitDate: string;
  text?: string;
  /** The gateway's user_message_reference from the submit_sm, when it set one. */
  reference?: number;
}

export function signCallback(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex")}`;
}

/** Checks a callback's signature and freshness. `now` in milliseconds (tests pass their own). */
export function verifyCallback(
  secret: string,
  headers: { signature?: string | null; timestamp?: string | null },
  rawBody: string,
  options: { now?: number; toleranceSeconds?: number } = {},
): boolean {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp || !/^\d{1,12}$/u.test(timestamp)) return false;
  const age = Math.abs((options.now ?? Date.now()) / 1000 - Number(timestamp));
  if (age > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signCallback(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export type CallbackAttempt = { ok: true; status: number } | {
  ok: false;
  status?: number;
  error: string;
};

/** One POST of a signed callback; a non-2xx answer or a network error is a failed attempt. */
export async function postCallback(
  url: string,
  secret: string,
  body: CallbackBody,
  options: { timeoutMs?: number; signal?: AbortSignal; now?: number } = {},
): Promise<CallbackAttempt> {
  const raw = JSON.stringify(body);
  const timestamp = String(Math.floor((options.now ?? Date.now()) / 1000));
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 5_000)];
  if (options.signal) signals.push(options.signal);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [timestampHeader]: timestamp,
        [signatureHeader]: signCallback(secret, timestamp, raw),
      },
      body: raw,
      signal: AbortSignal.any(signals),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true, status: response.status };
    return { ok: false, status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
