import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkCallback, signCallback, verifyCallback } from "./callback-signature.ts";

const secret = "top-secret-0123456789";
const body = `{"messageId":"abc","stat":"DELIVRD"}`;
const timestamp = "1700000000";
const at = (seconds: number) => ({ now: seconds * 1000 });

describe("signCallback", () => {
  it("is HMAC-SHA256 over '<timestamp>.<body>' in hex (as openssl dgst -hmac computes it)", () => {
    expect(signCallback(secret, timestamp, body)).toBe(
      "sha256=ca99a7aaaafbe6499c30f49f3f2776341faca3eeddaed7c666b44d9acc58afdb",
    );
  });

  it("signs the bytes: a string and its UTF-8 encoding give the same signature", () => {
    const text = `{"text":"Café ✓"}`;
    expect(signCallback(secret, timestamp, new TextEncoder().encode(text))).toBe(
      signCallback(secret, timestamp, text),
    );
  });
});

describe("checkCallback", () => {
  const signature = signCallback(secret, timestamp, body);

  it("accepts a fresh, genuine call and answers the signature in canonical form", () => {
    expect(checkCallback(secret, { signature, timestamp }, body, at(1700000010))).toEqual({
      ok: true,
      timestamp: 1700000000,
      signature,
    });
    const upper = `sha256=${signature.slice(7).toUpperCase()}`;
    expect(checkCallback(secret, { signature: upper, timestamp }, body, at(1700000000)))
      .toMatchObject({ ok: true, signature });
  });

  it("says why it refuses", () => {
    const check = (h: { signature?: string | null; timestamp?: string | null }, b = body) => {
      const result = checkCallback(secret, h, b, at(1700000000));
      return result.ok ? "ok" : result.reason;
    };
    expect(check({ timestamp })).toBe("unsigned");
    expect(check({ signature, timestamp: "" })).toBe("unsigned");
    expect(check({ signature: null, timestamp: null })).toBe("unsigned");
    expect(check({ signature: signature.slice(7), timestamp })).toBe("malformed");
    expect(check({ signature: "sha1=abcd", timestamp })).toBe("malformed");
    expect(check({ signature, timestamp: "1700000000.5" })).toBe("malformed");
    expect(check({ signature, timestamp: "-1700000000" })).toBe("malformed");
    expect(check({ signature, timestamp: "1".repeat(13) })).toBe("malformed");
    expect(check({ signature, timestamp }, `${body} `)).toBe("mismatch");
    expect(check({ signature, timestamp: "1700000001" })).toBe("mismatch");
    expect(checkCallback("another-secret-00", { signature, timestamp }, body, at(1700000000)))
      .toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses a genuine call more than 5 minutes from now, either way", () => {
    const result = (now: number) => checkCallback(secret, { signature, timestamp }, body, at(now));
    expect(result(1700000000 + 300).ok).toBe(true);
    expect(result(1700000000 - 300).ok).toBe(true);
    expect(result(1700000000 + 301)).toEqual({ ok: false, reason: "stale" });
    expect(result(1700000000 - 301)).toEqual({ ok: false, reason: "stale" });
    expect(
      checkCallback(secret, { signature, timestamp }, body, {
        now: (1700000000 + 3600) * 1000,
        toleranceSeconds: 7200,
      }).ok,
    ).toBe(true);
  });

  it("round-trips any body and refuses it once any byte changes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, flip) => {
          const sig = signCallback(secret, timestamp, bytes);
          const headers = { signature: sig, timestamp };
          const now = { now: 1700000000_000 };
          expect(verifyCallback(secret, headers, bytes, now)).toBe(true);
          const tampered = bytes.slice();
          tampered[at % bytes.length]! ^= flip;
          expect(verifyCallback(secret, headers, tampered, now)).toBe(false);
        },
      ),
    );
  });
});
