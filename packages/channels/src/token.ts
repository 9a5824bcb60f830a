import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The correlation token of a message: its id and a MAC, so that a bounce, a complaint or an
 * unsubscription names the message it is about and cannot be forged for another one. It goes in
 * the VERP return path (`bounces+<token>@bounce.example`), the Message-ID, the X-Sendgate-Id
 * header and the unsubscribe URL, so it keeps to characters every one of those accepts in any
 * case-folding: lower-case letters, digits and one dash. `m<id in base 36>-<MAC, 16 base-32 chars>`.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const MAC_CHARS = 16; // 80 bits

function mac(secret: string, id: number): string {
  const digest = createHmac("sha256", secret).update(`sendgate-message:${id}`).digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < MAC_CHARS) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === MAC_CHARS) break;
  }
  return out;
}

export function messageToken(id: number, secret: string): string {
  return `m${id.toString(36)}-${mac(secret, id)}`;
}

const TOKEN = /^m([0-9a-z]{1,11})-([a-z2-7]{16})$/u;

/** The message id a token names, or null when it is malformed or its MAC does not match. */
export function parseMessageToken(token: string, secret: string): number | null {
  const match = TOKEN.exec(token.trim().toLowerCase());
  if (!match) return null;
  const id = Number.parseInt(match[1]!, 36);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const expected = Buffer.from(mac(secret, id));
  const given = Buffer.from(match[2]!);
  return timingSafeEqual(expected, given) ? id : null;
}
