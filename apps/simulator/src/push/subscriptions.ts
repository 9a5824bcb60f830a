import { createECDH, randomBytes } from "node:crypto";
import type { PushRecipient } from "@sendgate/channels";
import type { PushBehaviour } from "../magic.ts";

export const pushBehaviours = [
  "accept",
  "gone",
  "notFound",
  "rateLimited",
  "serverError",
  "unavailable",
  "mix",
] as const;

/** A decrypted message the simulated user agent received (kept for tests and inspection). */
export interface ReceivedMessage {
  /** The correlation id the ledger uses for it. */
  id: string;
  /** The message resource (RFC 8030 §5: `Location`). */
  messageId: string;
  receivedAt: string;
  ttl: number;
  urgency: string;
  topic: string | null;
  /** The decrypted payload as UTF-8 text, and as base64 for binary payloads. */
  text: string;
  base64: string;
}

/** A push subscription as the simulated browser holds it, private key included. */
export interface Subscription extends PushRecipient {
  id: string;
  endpoint: string;
  tls: boolean;
  behaviour: PushBehaviour;
  /** `p256dh` and `auth` as a browser's `PushSubscription.toJSON()` gives them. */
  keys: { p256dh: string; auth: string };
  /** When set, only VAPID tokens signed by this key are accepted (RFC 8292 §4.2, else 403). */
  applicationServerKey: string | null;
  state: "active" | "expired" | "deleted";
  createdAt: string;
  /** The last `MESSAGES_KEPT` messages answered 201, oldest first. */
  messages: ReceivedMessage[];
}

export const MESSAGES_KEPT = 50;

export interface MintOptions {
  behaviour?: PushBehaviour;
  tls?: boolean;
  /** A chosen id (so a run can reuse the same endpoints); random when absent. */
  id?: string;
  applicationServerKey?: string | null;
}

/** The push service's subscriptions, by id (the last path segment of the endpoint). */
export class SubscriptionStore {
  #byId = new Map<string, Subscription>();

  constructor(private readonly origins: { http: string; https: string | null }) {}

  /** Mints a subscription: a fresh P-256 pair and auth secret; `null` when the id is taken. */
  mint(options: MintOptions = {}): Subscription | null {
    const tls = options.tls ?? false;
    const origin = tls ? this.origins.https : this.origins.http;
    if (!origin) throw new Error("the push service runs without TLS");
    const id = options.id ?? randomBytes(16).toString("base64url");
    if (this.#byId.has(id)) return null;
    const ecdh = createECDH("prime256v1");
    const publicKey = ecdh.generateKeys();
    const authSecret = randomBytes(16);
    const subscription: Subscription = {
      id,
      endpoint: `${origin}/push/${id}`,
      tls,
      behaviour: options.behaviour ?? "mix",
      ecdh,
      publicKey,
      authSecret,
      keys: { p256dh: publicKey.toString("base64url"), auth: authSecret.toString("base64url") },
      applicationServerKey: options.applicationServerKey ?? null,
      state: "active",
      createdAt: new Date().toISOString(),
      messages: [],
    };
    this.#byId.set(id, subscription);
    return subscription;
  }

  get(id: string): Subscription | undefined {
    return this.#byId.get(id);
  }

  /** Ends a subscription: its endpoint answers 410 from now on. */
  end(id: string, state: "expired" | "deleted"): Subscription | undefined {
    const subscription = this.#byId.get(id);
    if (subscription && subscription.state !== "deleted") subscription.state = state;
    return subscription;
  }

  keep(subscription: Subscription, message: ReceivedMessage): void {
    subscription.messages.push(message);
    if (subscription.messages.length > MESSAGES_KEPT) subscription.messages.shift();
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The public view (what `POST /push/subscriptions` answers): no private key. */
  static view(s: Subscription) {
    return {
      endpoint: s.endpoint,
      expirationTime: null,
      keys: s.keys,
      id: s.id,
      behaviour: s.behaviour,
      tls: s.tls,
      state: s.state,
      applicationServerKey: s.applicationServerKey,
      createdAt: s.createdAt,
      messages: s.messages.length,
    };
  }
}
