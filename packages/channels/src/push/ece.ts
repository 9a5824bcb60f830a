import { Buffer } from "node:buffer";
import { createDecipheriv, createHmac, type ECDH } from "node:crypto";

/**
 * Decryption of a Web Push message body: RFC 8291 (keys from the subscription's ECDH pair and
 * auth secret) over RFC 8188 `aes128gcm` (records of `rs` bytes, AES-128-GCM, a delimiter byte and
 * zero padding in each plaintext record). The user agent's side, which the gateway never plays:
 * the simulator reads what the push channel sent with it, and keeping both ends in this package
 * means the wire format has one home. Written on node:crypto rather than `http_ece` so that the
 * hot path keeps the subscription's ECDH object and gets errors as values; `http_ece` and RFC
 * 8291's own test vector check it (ece.test.ts).
 */

/** The user agent's side of a subscription: what is needed to read a message sent to it. */
export interface PushRecipient {
  /** The subscription's ECDH pair (its private key decrypts). */
  ecdh: ECDH;
  /** The uncompressed public key (65 bytes), the `p256dh` handed to the application server. */
  publicKey: Buffer;
  /** The 16-byte auth secret, the `auth` handed to the application server. */
  authSecret: Buffer;
}

export type Aes128gcmDecryption =
  | { ok: true; plaintext: Buffer }
  | { ok: false; error: string };

const TAG_BYTES = 16;
const HEADER_BYTES = 16 + 4 + 1;
const KEY_INFO_PREFIX = Buffer.from("WebPush: info\0", "latin1");
const CEK_INFO = Buffer.from("Content-Encoding: aes128gcm\0\x01", "latin1");
const NONCE_INFO = Buffer.from("Content-Encoding: nonce\0\x01", "latin1");

const hmac = (key: Buffer, ...data: Buffer[]) => {
  const h = createHmac("sha256", key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** Decrypts an `aes128gcm` body for `recipient`; a malformed or foreign body is a value, not a throw. */
export function decryptAes128gcm(body: Buffer, recipient: PushRecipient): Aes128gcmDecryption {
  if (body.length < HEADER_BYTES) {
    return { ok: false, error: "body shorter than the aes128gcm header" };
  }
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  // RFC 8291 §4: the keyid carries the application server's ephemeral public key, uncompressed.
  if (idlen !== 65) {
    return { ok: false, error: `keyid must be a 65-byte P-256 public key (idlen ${idlen})` };
  }
  if (rs < TAG_BYTES + 2) return { ok: false, error: `record size ${rs} too small` };
  const start = HEADER_BYTES + idlen;
  if (body.length < start + TAG_BYTES + 1) {
    return { ok: false, error: "body has no complete record" };
  }
  const senderKey = body.subarray(HEADER_BYTES, start);

  let ecdhSecret: Buffer;
  try {
    ecdhSecret = recipient.ecdh.computeSecret(senderKey);
  } catch {
    return { ok: false, error: "keyid is not a point on P-256" };
  }
  // RFC 8291 §3.4: IKM from the ECDH secret, keyed by the auth secret and both public keys.
  const prkKey = hmac(recipient.authSecret, ecdhSecret);
  const ikm = hmac(prkKey, KEY_INFO_PREFIX, recipient.publicKey, senderKey, Buffer.of(1));
  // RFC 8188 §2.2-2.3: content-encryption key and base nonce from the salt.
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, CEK_INFO).subarray(0, 16);
  const baseNonce = hmac(prk, NONCE_INFO).subarray(0, 12);

  const parts: Buffer[] = [];
  let seq = 0;
  for (let offset = start; offset < body.length; offset += rs, seq++) {
    const record = body.subarray(offset, Math.min(offset + rs, body.length));
    const last = offset + rs >= body.length;
    if (record.length < TAG_BYTES + 1) return { ok: false, error: `record ${seq} too short` };
    const nonce = Buffer.from(baseNonce);
    // The sequence number is XORed into the nonce's low bytes (a 4096-byte body has few records).
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
      decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(record.subarray(0, record.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      return { ok: false, error: `record ${seq} does not authenticate (wrong keys or corrupted)` };
    }
    // Strip the padding: zeros after a delimiter, 2 in the last record and 1 in the others.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) return { ok: false, error: `record ${seq} has no delimiter` };
    if (plain[end] !== (last ? 2 : 1)) {
      return { ok: false, error: `record ${seq} has a wrong delimiter` };
    }
    parts.push(plain.subarray(0, end));
  }
  return { ok: true, plaintext: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}
