import { describe, expect, it } from "vitest";
import webpush from "web-push";
import { VapidVerifier } from "./vapid.ts";
import { vapidKeysError, VapidTokens, webPushSigner } from "./vapid-tokens.ts";

const keys = { subject: "mailto:ops@example.com", ...webpush.generateVAPIDKeys() };
const HOUR = 3_600_000;

/** A signer that records its calls and answers a recognisable header for each. */
function countingSigner() {
  const calls: { audience: string; expiresAt: number }[] = [];
  return {
    calls,
    sign: (audience: string, expiresAt: number) => {
      calls.push({ audience, expiresAt });
      return `vapid t=${audience}#${calls.length}`;
    },
  };
}

describe("VAPID tokens per push-service origin", () => {
  it("signs once per origin and reuses it until 1 h before its 12 h expiry", () => {
    let now = Date.UTC(2026, 0, 1);
    const signer = countingSigner();
    const tokens = new VapidTokens({ sign: signer.sign, now: () => now });
    const first = tokens.authorization("https://fcm.example");
    expect(signer.calls).toEqual([{
      audience: "https://fcm.example",
      expiresAt: now / 1000 + 12 * 3600,
    }]);
    for (let i = 0; i < 100; i++) expect(tokens.authorization("https://fcm.example")).toBe(first);
    tokens.authorization("https://mozilla.example");
    expect(signer.calls).toHaveLength(2);

    now += 11 * HOUR - 1;
    expect(tokens.authorization("https://fcm.example")).toBe(first);
    now += 1;
    const second = tokens.authorization("https://fcm.example");
    expect(second).not.toBe(first);
    expect(signer.calls.at(-1)).toEqual({
      audience: "https://fcm.example",
      expiresAt: now / 1000 + 12 * 3600,
    });
    expect(signer.calls).toHaveLength(3);
  });

  it("takes another validity and margin, refuses ones a push service would not", () => {
    let now = 1_000_000;
    const signer = countingSigner();
    const tokens = new VapidTokens({
      sign: signer.sign,
      validitySeconds: 600,
      refreshBeforeSeconds: 60,
      now: () => now,
    });
    tokens.authorization("https://a.example");
    now += 539_000;
    tokens.authorization("https://a.example");
    expect(signer.calls).toHaveLength(1);
    now += 1_000;
    tokens.authorization("https://a.example");
    expect(signer.calls).toHaveLength(2);
    for (
      const bad of [
        { validitySeconds: 24 * 3600 },
        { validitySeconds: 1.5 },
        { refreshBeforeSeconds: 12 * 3600 },
        { refreshBeforeSeconds: -1 },
      ]
    ) {
      expect(() => new VapidTokens({ sign: signer.sign, ...bad }), JSON.stringify(bad)).toThrow();
    }
  });

  it("forgets a refused token, and keeps at most maxOrigins", () => {
    const signer = countingSigner();
    const tokens = new VapidTokens({ sign: signer.sign, maxOrigins: 2 });
    tokens.authorization("https://a.example");
    tokens.forget("https://a.example");
    tokens.authorization("https://a.example");
    expect(signer.calls).toHaveLength(2);
    tokens.authorization("https://b.example");
    tokens.authorization("https://c.example");
    tokens.authorization("https://c.example");
    tokens.authorization("https://b.example");
    expect(signer.calls).toHaveLength(4);
    tokens.authorization("https://a.example"); // evicted as the oldest
    expect(signer.calls).toHaveLength(5);
  });

  it("web-push's signer writes tokens a push service accepts for that origin and expiry", () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const authorization = webPushSigner(keys)("http://127.0.0.1:8080", exp);
    expect(new VapidVerifier().verify(authorization, ["http://127.0.0.1:8080"])).toEqual({
      ok: true,
      publicKey: keys.publicKey,
      claims: { aud: "http://127.0.0.1:8080", exp, sub: keys.subject },
    });
  });
});

describe("VAPID key checks", () => {
  it("accepts web-push's generated keys and names what is wrong otherwise", () => {
    expect(vapidKeysError(keys)).toBeNull();
    const other = webpush.generateVAPIDKeys();
    const cases: [Partial<typeof keys>, RegExp][] = [
      [{ subject: "ops@example.com" }, /subject/u],
      [{ subject: "http://example.com" }, /subject/u],
      [{ publicKey: "abc" }, /publicKey must be/u],
      [{ publicKey: keys.publicKey.replace(/^B/u, "A") }, /publicKey must be/u],
      [{ privateKey: `${keys.privateKey}AA` }, /privateKey must be/u],
      [{ privateKey: "A".repeat(43) }, /not a valid P-256 private key/u],
      [{ publicKey: other.publicKey }, /is not the public key of/u],
    ];
    for (const [edit, error] of cases) {
      expect(vapidKeysError({ ...keys, ...edit }), JSON.stringify(edit)).toMatch(error);
    }
  });
});
