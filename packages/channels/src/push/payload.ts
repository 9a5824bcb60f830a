import { Buffer } from "node:buffer";
import webpush from "web-push";

/**
 * RFC 8291 §4: a push message body is one aes128gcm record of at most 4096 bytes, of which the
 * header takes 86 (salt 16, rs 4, idlen 1, key 65), the GCM tag 16 and the delimiter 1, which
 * leaves 3993 bytes of plaintext. RFC 8030 §7.2 only obliges push services to take 4096.
 */
export const MAX_PLAINTEXT_BYTES = 3993;

const URGENCIES = new Set(["very-low", "low", "normal", "high"]);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/u;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/u;

/** RFC 8030 §5.2-5.4 headers of one message, besides encryption and authorization. */
export interface PushHeaders {
  ttl: number;
  urgency?: string;
  topic?: string;
}

export type PushPayload =
  | { ok: true; plaintext: Buffer; headers: PushHeaders }
  | { ok: false; detail: string };

export interface PayloadOptions {
  /** Plaintext bytes allowed; `MAX_PLAINTEXT_BYTES` by default. */
  maxBytes?: number;
  /** TTL when the content has none (intake always sets one); 1 day by default. */
  defaultTtlSeconds?: number;
}

/**
 * The plaintext the service worker receives, `{ title, body?, data?, sendgateId }`, and the
 * headers from the delivery's content. The size is judged on the plaintext, before encrypting,
 * so that a message too big for one record is refused for what it is (the content's fault, never
 * retried) without spending an ECDH on it or a request to learn it from a 413.
 */
export function pushPayload(
  content: Readonly<Record<string, unknown>>,
  sendgateId: string,
  options: PayloadOptions = {},
): PushPayload {
  const { title, body, data, ttlSeconds, urgency, topic } = content;
  if (typeof title !== "string" || title === "") {
    return { ok: false, detail: "push content needs a title" };
  }
  if (body !== undefined && typeof body !== "string") {
    return { ok: false, detail: "push content body must be text" };
  }
  if (data !== undefined && (data === null || typeof data !== "object" || Array.isArray(data))) {
    return { ok: false, detail: "push content data must be a JSON object" };
  }
  const ttl = ttlSeconds ?? options.defaultTtlSeconds ?? 86_400;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0) {
    return { ok: false, detail: "push ttlSeconds must be a whole number of seconds" };
  }
  if (urgency !== undefined && (typeof urgency !== "string" || !URGENCIES.has(urgency))) {
    return { ok: false, detail: "push urgency must be very-low, low, normal or high" };
  }
  if (topic !== undefined && (typeof topic !== "string" || !TOPIC.test(topic))) {
    return { ok: false, detail: "push topic must be 1 to 32 URL-safe base64 characters" };
  }
  const payload: Record<string, unknown> = { title };
  if (body !== undefined) payload.body = body;
  if (data !== undefined) payload.data = data;
  payload.sendgateId = sendgateId;
  const plaintext = Buffer.from(JSON.stringify(payload), "utf8");
  const max = options.maxBytes ?? MAX_PLAINTEXT_BYTES;
  if (plaintext.length > max) {
    return {
      ok: false,
      detail: `push payload is ${plaintext.length} bytes, over the ${max} one record holds ` +
        "(RFC 8291: 4096 bytes encrypted)",
    };
  }
  const headers: PushHeaders = { ttl };
  if (urgency !== undefined) headers.urgency = urgency;
  if (topic !== undefined) headers.topic = topic;
  return { ok: true, plaintext, headers };
}

/** A subscription's keys as the page handed them over (`PushSubscription.toJSON().keys`). */
export interface SubscriptionKeys {
  p256dh: string;
  auth: string;
}

const decodedLength = (s: string) => BASE64URL.test(s) ? Buffer.from(s, "base64url").length : -1;

/** The keys in a message's `addressData` (`{ keys: { p256dh, auth } }`), or why there are none. */
export function subscriptionKeys(addressData: unknown): SubscriptionKeys | string {
  const keys = (addressData as { keys?: unknown } | null)?.keys as
    | Record<string, unknown>
    | undefined;
  const { p256dh, auth } = keys ?? {};
  if (typeof p256dh !== "string" || decodedLength(p256dh) !== 65) {
    return "push subscription keys.p256dh missing or not a 65-byte P-256 key";
  }
  if (typeof auth !== "string" || decodedLength(auth) !== 16) {
    return "push subscription keys.auth missing or not a 16-byte secret";
  }
  return { p256dh, auth };
}

/**
 * Encrypts for one subscription with web-push's `encrypt` (aes128gcm, a fresh ephemeral key and
 * salt per message, as RFC 8291 requires). Throws only when the keys are not a P-256 point, which
 * the caller turns into an outcome.
 */
export function encryptPayload(keys: SubscriptionKeys, plaintext: Buffer): Buffer {
  return webpush.encrypt(keys.p256dh, keys.auth, plaintext, "aes128gcm").cipherText;
}
