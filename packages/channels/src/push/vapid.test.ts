import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import webpush from "web-push";
import { VapidVerifier } from "./vapid.ts";

// The tokens under test are web-push's own (`getVapidHeaders`), not ours: the verifier must take
// what a widely used sender writes, and refuse it where RFC 8292 says a push service should.
const keys = webpush.generateVAPIDKeys();
const other = webpush.generateVAPIDKeys();
const AUD = "https://push.example.net";
const SUBJECT = "mailto:ops@example.com";
const nowSeconds = () => Math.floor(Date.now() / 1000);

const header = (
  options: { aud?: string; exp?: number; keys?: typeof keys; subject?: string } = {},
) => {
  const k = options.keys ?? keys;
  return webpush.getVapidHeaders(
    options.aud ?? AUD,
    options.subject ?? SUBJECT,
    k.publicKey,
    k.privateKey,
    "aes128gcm",
    options.exp,
  ).Authorization;
};

describe("VAPID verification (RFC 8292) of web-push's tokens", () => {
  it("accepts web-push's header and reads its claims and key", () => {
    const exp = nowSeconds() + 3600;
    const verdict = new VapidVerifier().verify(header({ exp }), [AUD]);
    expect(verdict).toEqual({
      ok: true,
      publicKey: keys.publicKey,
      claims: { aud: AUD, exp, sub: SUBJECT },
    });
    // web-push's default expiry (12 h) is within the 24 h a push service allows.
    expect(new VapidVerifier().verify(header(), [AUD]).ok).toBe(true);
    expect(new VapidVerifier().verify(header({ subject: "https://example.com/contact" }), [AUD]))
      .toMatchObject({ ok: true, claims: { sub: "https://example.com/contact" } });
  });

  it("403 for claims a push service must refuse: another audience, expired, too far ahead", () => {
    const verifier = new VapidVerifier();
    expect(verifier.verify(header({ aud: "https://elsewhere.example" }), [AUD])).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringMatching(/^aud /u),
    });
    const exp = nowSeconds() + 600;
    const token = header({ exp });
    expect(verifier.verify(token, [AUD]).ok).toBe(true);
    // The same token later: still cached as verified, but expiry is judged on every message.
    expect(verifier.verify(token, [AUD], (exp + 1) * 1000)).toMatchObject({
      ok: false,
      status: 403,
      error: "the JWT has expired",
    });
    expect(verifier.verify(token, [AUD], (exp - 25 * 3600) * 1000)).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it("401 when the sender cannot be authenticated: missing, other scheme, key swapped, tampered", () => {
    const verifier = new VapidVerifier();
    const good = header();
    const [, token, k] = /^vapid t=([^,]+), k=(.+)$/u.exec(good)!;
    const [head, claims, signature] = token!.split(".") as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, "base64url").toString()), sub: "x:y" }),
    ).toString("base64url");
    const cases: [string, string | undefined][] = [
      ["missing", undefined],
      ["legacy scheme", `WebPush ${token}`],
      ["no k", `vapid t=${token}`],
      ["another key", `vapid t=${token}, k=${other.publicKey}`],
      ["claims edited", `vapid t=${head}.${forged}.${signature}, k=${k}`],
      ["signature cut", `vapid t=${head}.${claims}.${signature.slice(0, -4)}, k=${k}`],
      ["k not a point", `vapid t=${token}, k=${"A".repeat(87)}`],
    ];
    for (const [name, authorization] of cases) {
      expect(verifier.verify(authorization, [AUD]), name).toMatchObject({ ok: false, status: 401 });
    }
    expect(verifier.verify(good, [AUD]).ok).toBe(true);
  });

  it("without the cache, verifies every time and gives the same verdicts", () => {
    const cached = new VapidVerifier(true);
    const uncached = new VapidVerifier(false);
    for (
      const authorization of [header(), header({ aud: "https://x.example" }), "vapid t=a.b.c, k=d"]
    ) {
      expect(uncached.verify(authorization, [AUD])).toEqual(cached.verify(authorization, [AUD]));
      expect(cached.verify(authorization, [AUD])).toEqual(uncached.verify(authorization, [AUD]));
    }
  });
});
