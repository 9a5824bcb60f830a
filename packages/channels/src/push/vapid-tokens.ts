import { Buffer } from "node:buffer";
import { createECDH } from "node:crypto";
import webpush from "web-push";

/** The application server's VAPID identity, base64url as web-push's `generateVAPIDKeys` gives. */
export interface VapidKeys {
  /** A contact for the push service's operators: `mailto:` or `https:` (RFC 8292 §2.1). */
  subject: string;
  /** Uncompressed P-256 public key (65 bytes), the `applicationServerKey` pages subscribe with. */
  publicKey: string;
  /** The 32-byte private scalar. */
  privateKey: string;
}

/**
 * Signs one VAPID JWT for `audience` (a push service's origin) expiring at `expiresAt` (seconds
 * since the epoch), and answers the whole `Authorization` header value.
 */
export type VapidSigner = (audience: string, expiresAt: number) => string;

/** The signer the channel uses unless told otherwise: web-push's `getVapidHeaders` (ES256). */
export function webPushSigner(keys: VapidKeys): VapidSigner {
  return (audience, expiresAt) =>
    webpush.getVapidHeaders(
      audience,
      keys.subject,
      keys.publicKey,
      keys.privateKey,
      "aes128gcm",
      expiresAt,
    ).Authorization;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/u;

/**
 * What is wrong with a VAPID configuration, or null. Checked once at start, because a wrong key
 * only shows later as every push service answering 401 or 403, which pauses every delivery; a
 * public key that is not the private key's is the likeliest mistake (two settings pasted apart).
 */
export function vapidKeysError(keys: VapidKeys): string | null {
  let subject: URL;
  try {
    subject = new URL(keys.subject);
  } catch {
    return "vapid.subject must be a mailto: or https: URL";
  }
  if (subject.protocol !== "mailto:" && subject.protocol !== "https:") {
    return "vapid.subject must be a mailto: or https: URL";
  }
  const publicKey = BASE64URL.test(keys.publicKey)
    ? Buffer.from(keys.publicKey, "base64url")
    : Buffer.alloc(0);
  if (publicKey.length !== 65 || publicKey[0] !== 4) {
    return "vapid.publicKey must be an uncompressed P-256 public key in base64url (65 bytes)";
  }
  const privateKey = BASE64URL.test(keys.privateKey)
    ? Buffer.from(keys.privateKey, "base64url")
    : Buffer.alloc(0);
  if (privateKey.length !== 32) {
    return "vapid.privateKey must be a P-256 private key in base64url (32 bytes)";
  }
  let derived: Buffer;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(privateKey);
    derived = ecdh.getPublicKey();
  } catch {
    return "vapid.privateKey is not a valid P-256 private key";
  }
  if (!derived.equals(publicKey)) {
    return "vapid.publicKey is not the public key of vapid.privateKey";
  }
  return null;
}

export interface VapidTokenOptions {
  sign: VapidSigner;
  /** How long a token is valid; 12 h by default, under the 24 h RFC 8292 §2 allows. */
  validitySeconds?: number;
  /** A token is replaced this long before it expires; 1 h by default. */
  refreshBeforeSeconds?: number;
  /** Push-service origins kept at most (the oldest goes first); 1,000 by default. */
  maxOrigins?: number;
  now?: () => number;
}

const MAX_VALIDITY_SECONDS = 24 * 60 * 60;

/**
 * One VAPID token per push-service origin (`aud`), reused until shortly before it expires.
 * web-push signs a JWT per message, which is over half its CPU; a push service accepts the same
 * token for as long as its `exp` allows. The margin before expiry covers clock skew with the push
 * service and requests still queued when the token is handed out. Signing is synchronous, so a
 * batch to a new origin signs once: the first message fills the cache before the next asks.
 */
export class VapidTokens {
  readonly #sign: VapidSigner;
  readonly #validity: number;
  readonly #refreshBefore: number;
  readonly #maxOrigins: number;
  readonly #now: () => number;
  readonly #byOrigin = new Map<string, { authorization: string; refreshAt: number }>();

  constructor(options: VapidTokenOptions) {
    this.#sign = options.sign;
    this.#validity = options.validitySeconds ?? 12 * 60 * 60;
    this.#refreshBefore = options.refreshBeforeSeconds ?? 60 * 60;
    this.#maxOrigins = options.maxOrigins ?? 1_000;
    this.#now = options.now ?? Date.now;
    // web-push refuses an exp of 24 h or more ahead, and so do push services.
    if (!(Number.isInteger(this.#validity) && this.#validity < MAX_VALIDITY_SECONDS)) {
      throw new Error("vapid validitySeconds must be a whole number of seconds under 24 hours");
    }
    if (
      !(Number.isInteger(this.#refreshBefore) && this.#refreshBefore >= 0 &&
        this.#refreshBefore < this.#validity)
    ) {
      throw new Error("vapid refreshBeforeSeconds must be at least 0 and less than the validity");
    }
  }

  /** The `Authorization` header value for a request to `origin`. */
  authorization(origin: string): string {
    const now = this.#now();
    const cached = this.#byOrigin.get(origin);
    if (cached && now < cached.refreshAt) return cached.authorization;
    this.#byOrigin.delete(origin);
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + this.#validity;
    const authorization = this.#sign(origin, expiresAt);
    this.#byOrigin.set(origin, {
      authorization,
      refreshAt: (expiresAt - this.#refreshBefore) * 1000,
    });
    // Maps iterate in insertion order, and a refreshed origin is inserted again: first is oldest.
    for (const oldest of this.#byOrigin.keys()) {
      if (this.#byOrigin.size <= this.#maxOrigins) break;
      this.#byOrigin.delete(oldest);
    }
    return authorization;
  }

  /** Forgets an origin's token, so that the next request signs a new one. */
  forget(origin: string): void {
    this.#byOrigin.delete(origin);
  }
}
