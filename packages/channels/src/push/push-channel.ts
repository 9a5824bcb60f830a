import type { LookupFunction } from "node:net";
import type { QualificationInput } from "@sendgate/core";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "../channel.ts";
import { messageToken } from "../token.ts";
import { OriginBackoff, parseRetryAfter } from "./backoff.ts";
import { type AllowList, checkEndpoint, FORBIDDEN_ADDRESS } from "./endpoint-policy.ts";
import { InFlight } from "./in-flight.ts";
import { encryptPayload, pushPayload, subscriptionKeys } from "./payload.ts";
import { type PushResponse, type PushTlsOptions, PushTransport } from "./transport.ts";
import {
  type VapidKeys,
  vapidKeysError,
  type VapidSigner,
  VapidTokens,
  webPushSigner,
} from "./vapid-tokens.ts";

export interface PushChannelConfig {
  /** The VAPID identity, and how long each per-origin token lives (12 h, renewed 1 h before). */
  vapid: VapidKeys & { validitySeconds?: number; refreshBeforeSeconds?: number };
  /** The secret of the correlation tokens (`X-Sendgate-Id` and the payload's `sendgateId`). */
  tokenSecret: string;
  /** Hosts and networks allowed although not public (`parseAllowList`); `[]` allows none. */
  allow: AllowList;
  /** Sockets per push-service origin; 50 by default. */
  maxSocketsPerOrigin?: number;
  /** Requests in flight at once over every batch being sent; 100 by default. */
  maxInFlight?: number;
  /** Per request, from when it has a socket to the end of the answer; 10 s by default. */
  timeoutMs?: number;
  /** HTTPS: a CA to trust (the simulator's certificate), or no verification (simulator only). */
  tls?: PushTlsOptions;
  /**
   * Plaintext bytes a message may have; 3993 by default (RFC 8291: one 4096-byte record). Raise
   * it only for a push service known to take larger bodies: above it, web-push's `encrypt`
   * writes several records, which RFC 8030 push services answer with 413.
   */
  maxPlaintextBytes?: number;
  /** TTL when a message's content has none; 1 day by default. */
  defaultTtlSeconds?: number;
  /** Milliseconds since the epoch: VAPID expiry and Retry-After waits. */
  now?: () => number;
  /** Signs a VAPID token; web-push's `getVapidHeaders` with `vapid`'s keys by default. */
  sign?: VapidSigner;
  /** The DNS lookup under the SSRF guard; `dns.lookup` by default. */
  lookup?: LookupFunction;
}

/** The push channel: `ChannelAdapter` plus what an operator or a test may want to see. */
export interface PushChannel extends ChannelAdapter {
  readonly channel: "push";
  /** Milliseconds an origin still waits after a 429 (0 when it does not). */
  backingOff(origin: string): number;
}

const BODY_CHARS = 500;
const BACKING_OFF_TEXT = "not sent: the push service asked to wait (Retry-After of an earlier 429)";

const refused = (
  status: number,
  body?: string,
  retryAfterMs?: number,
): SendOutcome => {
  const input: QualificationInput = { channel: "push", kind: "http", status };
  if (body) input.body = body;
  if (retryAfterMs !== undefined) input.retryAfterMs = retryAfterMs;
  return { kind: "refused", input };
};

const transport = (code: string, text: string): SendOutcome => ({
  kind: "transport",
  input: { channel: "push", kind: "network", code, text },
});

const invalid = (detail: string): SendOutcome => ({ kind: "invalid", problem: "content", detail });

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).
 *
 * Per message: the endpoint is judged by the endpoint policy again (the allow list may have
 * changed since intake, and literal-IP hosts are never looked up, so `guardedLookup` would not
 * see them); the payload `{ title, body?, data?, sendgateId }` is built and its size checked
 * before encrypting; it is encrypted for the subscription with web-push's `encrypt`, and POSTed
 * with the origin's cached VAPID token over a keep-alive agent whose sockets connect only where
 * the policy allows. The answer becomes an outcome; the core qualifies it (DOMAIN §10).
 *
 * A 429 with `Retry-After` makes its origin wait: until then messages to it are not sent but
 * answered at once as refused 429 with the time left as `retryAfterMs` (and a body saying so, so
 * that the qualification table tells them from real 429s). A throttling storm thus costs one
 * request per message in flight when it starts, not one per message. A 429 without Retry-After
 * holds nothing: the message is retried on the core's schedule.
 *
 * Batches run concurrently up to `maxInFlight` requests, shared by every batch the adapter is
 * sending, so that a dispatcher with several workers does not multiply it.
 */
export function createPushChannel(config: PushChannelConfig): PushChannel {
  const keysError = vapidKeysError(config.vapid);
  if (keysError) throw new Error(`push channel: ${keysError}`);
  if (!config.tokenSecret) throw new Error("push channel: tokenSecret is required");
  const now = config.now ?? Date.now;
  const tokens = new VapidTokens({
    sign: config.sign ?? webPushSigner(config.vapid),
    validitySeconds: config.vapid.validitySeconds,
    refreshBeforeSeconds: config.vapid.refreshBeforeSeconds,
    now,
  });
  const backoff = new OriginBackoff(now);
  const inFlight = new InFlight(config.maxInFlight ?? 100);
  const http = new PushTransport({
    allow: config.allow,
    maxSocketsPerOrigin: config.maxSocketsPerOrigin ?? 50,
    timeoutMs: config.timeoutMs ?? 10_000,
    tls: config.tls,
    lookup: config.lookup,
  });
  const payloadOptions = {
    maxBytes: config.maxPlaintextBytes,
    defaultTtlSeconds: config.defaultTtlSeconds,
  };
  const sending = new Set<Promise<unknown>>();
  let closed = false;

  function outcomeOf(origin: string, response: PushResponse): SendOutcome {
    if (response.kind === "error") return transport(response.code, response.text);
    const { status } = response;
    // RFC 8030 §5 says 201; some services answer 200 or 202, which the core reads as sent too.
    if (status >= 200 && status < 300) {
      return response.location ? { kind: "accepted", remoteId: response.location } : {
        kind: "accepted",
      };
    }
    const retryAfterMs = parseRetryAfter(response.retryAfter, now());
    if (status === 429 && retryAfterMs !== undefined) backoff.hold(origin, retryAfterMs);
    // A token the push service refused is not reused: if it was skew or a revoked key, the
    // next attempt signs anew (the core pauses the delivery anyway).
    if (status === 401 || status === 403) tokens.forget(origin);
    return refused(status, response.body.slice(0, BODY_CHARS), retryAfterMs);
  }

  async function sendOne(message: OutgoingMessage): Promise<SendOutcome> {
    let url: URL;
    try {
      url = new URL(message.address);
    } catch {
      return invalid("push endpoint is not a URL");
    }
    const checked = checkEndpoint(message.address, config.allow);
    if (!checked.ok) return transport(FORBIDDEN_ADDRESS, `refused: ${checked.error}`);
    const keys = subscriptionKeys(message.addressData);
    if (typeof keys === "string") return invalid(keys);
    const sendgateId = messageToken(message.id, config.tokenSecret);
    const payload = pushPayload(message.content, sendgateId, payloadOptions);
    if (!payload.ok) return invalid(payload.detail);
    const origin = url.origin;

    return await inFlight.run(async () => {
      // Judged once a slot is free: a 429 may have come back while this message waited.
      const waiting = backoff.remaining(origin);
      if (waiting > 0) return refused(429, BACKING_OFF_TEXT, waiting);
      let body;
      try {
        body = encryptPayload(keys, payload.plaintext);
      } catch (error) {
        return invalid(`push subscription keys do not encrypt: ${(error as Error).message}`);
      }
      const headers: Record<string, string | number> = {
        TTL: payload.headers.ttl,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "Content-Length": body.length,
        Authorization: tokens.authorization(origin),
        "X-Sendgate-Id": sendgateId,
      };
      if (payload.headers.urgency) headers.Urgency = payload.headers.urgency;
      if (payload.headers.topic) headers.Topic = payload.headers.topic;
      return outcomeOf(origin, await http.post(url, headers, body));
    });
  }

  return {
    channel: "push",
    backingOff: (origin) => backoff.remaining(origin),
    send(batch) {
      if (closed) return Promise.reject(new Error("push channel is closed"));
      const all = Promise.all(batch.map(sendOne));
      sending.add(all);
      const forget = () => sending.delete(all);
      all.then(forget, forget);
      return all;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...sending]);
      http.destroy();
    },
  };
}
