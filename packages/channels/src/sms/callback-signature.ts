import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The signature of a provider's HTTP delivery-report callback: one piece of wire code for the side
 * that signs (the simulator's provider-callback mode, a provider's integration) and the side that
 * checks (the gateway's `POST /v1/callbacks/sms/{provider}`). Scheme:
 *
 *   X-Sendgate-Timestamp: <unix seconds>
 *   X-Sendgate-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed bytes, so a captured callback cannot be sent again later
 * under a fresh timestamp; the receiver refuses timestamps more than `toleranceSeconds` (5 minutes)
 * from its clock either way, and compares digests in constant time. The signature is over the
 * body's bytes as sent: a receiver must check it before it parses anything.
 */
export const signatureHeader = "x-sendgate-signature";
export const timestampHeader = "x-sendgate-timestamp";
export const CALLBACK_TOLERANCE_SECONDS = 300;

/** One report of the JSON format, as the simulator sends it (the gateway takes more: see docs). */
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

const hmac = (secret: string, timestamp: string, rawBody: string | Uint8Array) =>
  createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest();

/** The `X-Sendgate-Signature` value of a body sent at `timestamp` (unix seconds, as a string). */
export function signCallback(
  secret: string,
  timestamp: string,
  rawBody: string | Uint8Array,
): string {
  return `sha256=${hmac(secret, timestamp, rawBody).toString("hex")}`;
}

/**
 * Why a callback is refused: no signature or no timestamp; one that is not of the scheme's
 * shape; a digest that does not match; a genuine signature on a timestamp too far from now.
 */
export type CallbackRefusal = "unsigned" | "malformed" | "mismatch" | "stale";

export type CallbackCheck =
  | {
    ok: true;
    /** The timestamp, unix seconds. */
    timestamp: number;
    /** The signature in canonical form (`sha256=` and lower-case hex): the key of replays. */
    signature: string;
  }
  | { ok: false; reason: CallbackRefusal };

const SIGNATURE = /^sha256=([0-9a-f]{64})$/iu;
const TIMESTAMP = /^\d{1,12}$/u;

/**
 * Checks a callback's signature, then its freshness. `now` in milliseconds (tests pass their
 * own). The digest is checked first so that "stale" is only ever said of a call that the secret's
 * holder signed: a provider whose clock drifts is told so, a forger learns nothing.
 */
export function checkCallback(
  secret: string,
  headers: { signature?: string | null | undefined; timestamp?: string | null | undefined },
  rawBody: string | Uint8Array,
  options: { now?: number; toleranceSeconds?: number } = {},
): CallbackCheck {
  const signature = headers.signature?.trim();
  const timestamp = headers.timestamp?.trim();
  if (!signature || !timestamp) return { ok: false, reason: "unsigned" };
  const given = SIGNATURE.exec(signature);
  if (!given || !TIMESTAMP.test(timestamp)) return { ok: false, reason: "malformed" };
  const expected = hmac(secret, timestamp, rawBody);
  if (!timingSafeEqual(expected, Buffer.from(given[1]!, "hex"))) {
    return { ok: false, reason: "mismatch" };
  }
  const seconds = Number(timestamp);
  const age = Math.abs((options.now ?? Date.now()) / 1000 - seconds);
  if (age > (options.toleranceSeconds ?? CALLBACK_TOLERANCE_SECONDS)) {
    return { ok: false, reason: "stale" };
  }
  return { ok: true, timestamp: seconds, signature: `sha256=${given[1]!.toLowerCase()}` };
}

/** `checkCallback` as a yes or no. */
export function verifyCallback(
  secret: string,
  headers: { signature?: string | null | undefined; timestamp?: string | null | undefined },
  rawBody: string | Uint8Array,
  options: { now?: number; toleranceSeconds?: number } = {},
): boolean {
  return checkCallback(secret, headers, rawBody, options).ok;
}
