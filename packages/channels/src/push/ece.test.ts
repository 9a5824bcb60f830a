import { Buffer } from "node:buffer";
import { createECDH, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import webpush from "web-push";
import { decryptAes128gcm, type PushRecipient } from "./ece.ts";

// http_ece (Martin Thomson's reference implementation of RFC 8188, which web-push wraps) has no
// types: only what these tests call is declared.
const ece = createRequire(import.meta.url)("http_ece") as {
  encrypt(data: Buffer, params: Record<string, unknown>): Buffer;
  decrypt(data: Buffer, params: Record<string, unknown>): Buffer;
};

const b64 = (text: string) => Buffer.from(text, "base64url");

// RFC 8291 Appendix A (line breaks removed). Nobody here wrote these bytes.
const RFC8291 = {
  plaintext: "When I grow up, I want to be a watermelon",
  asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  asPublic:
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
  uaPublic:
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  authSecret: "BTBZMqHH6r4Tts7J_aSIgg",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  body: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInm" +
    "YWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQe" +
    "xSgSxsj_Qulcy4a-fN",
};

function rfcRecipient(): PushRecipient {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(b64(RFC8291.uaPrivate));
  return { ecdh, publicKey: b64(RFC8291.uaPublic), authSecret: b64(RFC8291.authSecret) };
}

function freshRecipient(): PushRecipient {
  const ecdh = createECDH("prime256v1");
  return { ecdh, publicKey: ecdh.generateKeys(), authSecret: randomBytes(16) };
}

/** Encrypts with http_ece for `recipient`, from a fresh sender key unless one is given. */
function referenceEncrypt(
  plaintext: Buffer,
  recipient: PushRecipient,
  params: { rs?: number; pad?: number; salt?: Buffer; sender?: ReturnType<typeof createECDH> } = {},
): Buffer {
  const sender = params.sender ?? createECDH("prime256v1");
  if (!params.sender) sender.generateKeys();
  return ece.encrypt(plaintext, {
    version: "aes128gcm",
    dh: recipient.publicKey.toString("base64url"),
    privateKey: sender,
    salt: (params.salt ?? randomBytes(16)).toString("base64url"),
    authSecret: recipient.authSecret.toString("base64url"),
    ...(params.rs ? { rs: params.rs } : {}),
    ...(params.pad ? { pad: params.pad } : {}),
  });
}

describe("aes128gcm decryption (RFC 8291 over RFC 8188)", () => {
  it("reads RFC 8291 Appendix A's message", () => {
    const result = decryptAes128gcm(b64(RFC8291.body), rfcRecipient());
    expect(result).toEqual({ ok: true, plaintext: Buffer.from(RFC8291.plaintext) });
  });

  it("agrees with the vector's other side: http_ece with its keys and salt writes the same bytes", () => {
    // Pins the reference itself to the RFC, so that the round trips below test against the RFC.
    const sender = createECDH("prime256v1");
    sender.setPrivateKey(b64(RFC8291.asPrivate));
    expect(sender.getPublicKey().toString("base64url")).toBe(RFC8291.asPublic);
    const body = referenceEncrypt(Buffer.from(RFC8291.plaintext), rfcRecipient(), {
      sender,
      salt: b64(RFC8291.salt),
    });
    expect(body.toString("base64url")).toBe(RFC8291.body);
  });

  it("reads whatever http_ece writes and reads back: any plaintext, record size and padding", () => {
    const recipient = freshRecipient();
    const referenceDecrypt = (body: Buffer) => {
      try {
        return ece.decrypt(body, {
          version: "aes128gcm",
          privateKey: recipient.ecdh,
          authSecret: recipient.authSecret.toString("base64url"),
        });
      } catch {
        return null;
      }
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 18, max: 4096 }),
        fc.integer({ min: 0, max: 300 }),
        (bytes, rs, pad) => {
          const plaintext = Buffer.from(bytes);
          const body = referenceEncrypt(plaintext, recipient, { rs, pad });
          // http_ece 1.2.1 writes some tiny-record padded bodies that do not authenticate, for
          // it or for us (rs 19, pad 2, empty plaintext): judge only what it reads back itself.
          fc.pre(referenceDecrypt(body) !== null);
          const result = decryptAes128gcm(body, recipient);
          expect(result.ok && result.plaintext.equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads what web-push's encrypt writes, as http_ece's decrypt does", () => {
    const recipient = freshRecipient();
    const plaintext = Buffer.from(JSON.stringify({ title: "Hi ✓", sendgateId: "m1-x" }));
    const { cipherText } = webpush.encrypt(
      recipient.publicKey.toString("base64url"),
      recipient.authSecret.toString("base64url"),
      plaintext,
      "aes128gcm",
    );
    const ours = decryptAes128gcm(cipherText, recipient);
    const reference = ece.decrypt(cipherText, {
      version: "aes128gcm",
      privateKey: recipient.ecdh,
      authSecret: recipient.authSecret.toString("base64url"),
    });
    expect(ours.ok && ours.plaintext.equals(plaintext)).toBe(true);
    expect(reference.equals(plaintext)).toBe(true);
  });

  it("answers an error, never throws, for bodies it cannot read", () => {
    const recipient = freshRecipient();
    const good = referenceEncrypt(Buffer.from("hello"), recipient);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 1]! ^= 1;
    const cases: [string, Buffer, RegExp][] = [
      ["short", good.subarray(0, 10), /shorter than the aes128gcm header/u],
      ["no record", good.subarray(0, 90), /no complete record/u],
      ["tampered", tampered, /does not authenticate/u],
      ["truncated", good.subarray(0, good.length - 3), /does not authenticate/u],
      ["foreign", referenceEncrypt(Buffer.from("x"), freshRecipient()), /does not authenticate/u],
      ["idlen", Buffer.concat([good.subarray(0, 20), Buffer.of(64), good.subarray(21)]), /keyid/u],
      [
        "bad point",
        Buffer.concat([good.subarray(0, 21), Buffer.alloc(65, 7), good.subarray(86)]),
        /P-256/u,
      ],
      [
        "rs",
        Buffer.concat([good.subarray(0, 16), Buffer.of(0, 0, 0, 5), good.subarray(20)]),
        /record size/u,
      ],
    ];
    for (const [name, body, error] of cases) {
      const result = decryptAes128gcm(body, recipient);
      expect(result.ok, name).toBe(false);
      if (!result.ok) expect(result.error, name).toMatch(error);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(decryptAes128gcm(Buffer.from(bytes), recipient).ok).toBe(false);
      }),
    );
  });
});
