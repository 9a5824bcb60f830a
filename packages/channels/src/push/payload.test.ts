import { Buffer } from "node:buffer";
import { createECDH, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decryptAes128gcm } from "./ece.ts";
import { encryptPayload, MAX_PLAINTEXT_BYTES, pushPayload, subscriptionKeys } from "./payload.ts";

function recipient() {
  const ecdh = createECDH("prime256v1");
  const publicKey = ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    ecdh,
    publicKey,
    authSecret,
    keys: { p256dh: publicKey.toString("base64url"), auth: authSecret.toString("base64url") },
  };
}

const json = (plaintext: Buffer) => JSON.parse(plaintext.toString("utf8"));

describe("push payload", () => {
  it("is { title, body?, data?, sendgateId } with TTL, Urgency and Topic from the content", () => {
    const made = pushPayload({
      title: "Sale",
      body: "Up to 50% ✓",
      data: { url: "/s", n: [1, 2] },
      ttlSeconds: 3600,
      urgency: "high",
      topic: "sale_1",
    }, "m1-abc");
    expect(made.ok).toBe(true);
    if (!made.ok) return;
    expect(json(made.plaintext)).toEqual({
      title: "Sale",
      body: "Up to 50% ✓",
      data: { url: "/s", n: [1, 2] },
      sendgateId: "m1-abc",
    });
    expect(made.headers).toEqual({ ttl: 3600, urgency: "high", topic: "sale_1" });

    const bare = pushPayload({ title: "Hi" }, "m2-x", { defaultTtlSeconds: 60 });
    expect(bare.ok && json(bare.plaintext)).toEqual({ title: "Hi", sendgateId: "m2-x" });
    expect(bare.ok && bare.headers).toEqual({ ttl: 60 });
  });

  it("refuses content it cannot send, naming why", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /title/u],
      [{ title: "" }, /title/u],
      [{ title: "a", body: 3 }, /body/u],
      [{ title: "a", data: [1] }, /data/u],
      [{ title: "a", data: null }, /data/u],
      [{ title: "a", ttlSeconds: -1 }, /ttl/u],
      [{ title: "a", ttlSeconds: 1.5 }, /ttl/u],
      [{ title: "a", urgency: "asap" }, /urgency/u],
      [{ title: "a", topic: "a topic" }, /topic/u],
      [{ title: "a", topic: "t".repeat(33) }, /topic/u],
    ];
    for (const [content, detail] of cases) {
      const made = pushPayload(content, "m1-x");
      expect(made.ok, JSON.stringify(content)).toBe(false);
      if (!made.ok) expect(made.detail).toMatch(detail);
    }
  });

  it("takes 3993 bytes of plaintext, which encrypt to exactly one 4096-byte record, and no more", () => {
    const r = recipient();
    const overhead = Buffer.byteLength(JSON.stringify({ title: "", sendgateId: "m1-x" }));
    const fits = pushPayload(
      { title: "é".repeat((MAX_PLAINTEXT_BYTES - overhead - 1) / 2) + "a" },
      "m1-x",
    );
    expect(fits.ok && fits.plaintext.length).toBe(MAX_PLAINTEXT_BYTES);
    if (!fits.ok) return;
    const body = encryptPayload(r.keys, fits.plaintext);
    expect(body.length).toBe(4096);
    expect(decryptAes128gcm(body, r)).toEqual({ ok: true, plaintext: fits.plaintext });

    const over = pushPayload(
      { title: "é".repeat((MAX_PLAINTEXT_BYTES - overhead - 1) / 2) + "ab" },
      "m1-x",
    );
    expect(over).toEqual({
      ok: false,
      detail: expect.stringMatching(/^push payload is 3994 bytes, over the 3993/u),
    });
    expect(pushPayload({ title: "a".repeat(100) }, "m1-x", { maxBytes: 50 }).ok).toBe(false);
  });

  it("encrypts so that the subscription reads it back, at every size allowed", () => {
    const r = recipient();
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 1200 }),
        fc.option(fc.string({ maxLength: 800 }), { nil: undefined }),
        (title, body) => {
          const made = pushPayload(body === undefined ? { title } : { title, body }, "m9-z");
          fc.pre(made.ok);
          if (!made.ok) return;
          const encrypted = encryptPayload(r.keys, made.plaintext);
          expect(encrypted.length).toBeLessThanOrEqual(4096);
          const read = decryptAes128gcm(encrypted, r);
          expect(read.ok && json(read.plaintext)).toEqual({
            title,
            ...(body === undefined ? {} : { body }),
            sendgateId: "m9-z",
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("finds the subscription keys in addressData, or says what is missing", () => {
    const r = recipient();
    expect(subscriptionKeys({ keys: r.keys })).toEqual(r.keys);
    expect(subscriptionKeys(null)).toMatch(/p256dh/u);
    expect(subscriptionKeys({ keys: { auth: r.keys.auth } })).toMatch(/p256dh/u);
    expect(subscriptionKeys({ keys: { p256dh: r.keys.p256dh, auth: "abc" } })).toMatch(/auth/u);
    expect(subscriptionKeys({ keys: { p256dh: "!!", auth: r.keys.auth } })).toMatch(/p256dh/u);
  });
});
