// The signing scheme is shared with the gateway, which checks what this signs: one piece of wire
// code for both sides. By path until the package's index exports it.
import {
  type CallbackBody,
  signatureHeader,
  signCallback,
  timestampHeader,
} from "@sendgate/channels";

/**
 * Delivery receipts as HTTP callbacks, the way HTTP SMS providers send them, signed as
 * `callback-signature.ts` says (`X-Sendgate-Timestamp`, `X-Sendgate-Signature: sha256=<hex
 * HMAC-SHA256(secret, "<timestamp>.<raw body>")>`).
 */
export {
  type CallbackBody,
  signatureHeader,
  signCallback,
  timestampHeader,
  verifyCallback,
} from "@sendgate/channels";

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
