import { Buffer } from "node:buffer";

/**
 * SMS text as SMPP carries it (3GPP TS 23.038): the GSM 7-bit default alphabet one septet per
 * octet, unpacked (the SMSC packs them for the air), characters of the extension table as ESC
 * (0x1B) and their code; or UCS-2, big-endian UTF-16 code units. data_coding 0 says "SMSC
 * default alphabet", which every SMSC takes as GSM 03.38; 8 says UCS-2. (The smpp package labels
 * its GSM encoder ASCII and writes data_coding 1, IA5, which SMSCs read as 7-bit ASCII: `@`,
 * `_`, `$` and every accent come out wrong on the handset.)
 *
 * The alphabet is the one `smsTextInfo` in @sendgate/core judges texts by (the same characters,
 * the same two-septet extension characters), so a text it calls GSM-7 always encodes here, in as
 * many septets as it counted; a test holds the two together.
 */

/** The default alphabet by code (0x00 …0x7F); 0x1B is the escape to the extension table. */
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/** The extension table: character → code after ESC. */
const GSM_EXTENSION: Record<string, number> = {
  "\f": 0x0a,
  "^": 0x14,
  "{": 0x28,
  "}": 0x29,
  "\\": 0x2f,
  "[": 0x3c,
  "~": 0x3d,
  "]": 0x3e,
  "|": 0x40,
  "€": 0x65,
};

export const GSM_ESCAPE = 0x1b;

const basicCode = new Map<string, number>([...GSM_BASIC].map((ch, i) => [ch, i]));
const extensionChar = new Map<number, string>(
  Object.entries(GSM_EXTENSION).map(([ch, code]) => [code, ch]),
);

/**
 * The text in GSM-7 septets (one per octet), or null when a character is not in the alphabet.
 * A literal ESC in the text is sent as a space: alone it would make the handset read the next
 * character from the extension table.
 */
export function encodeGsm7(text: string): Buffer | null {
  const out: number[] = [];
  for (const ch of text) {
    const code = basicCode.get(ch);
    if (code !== undefined) {
      out.push(code === GSM_ESCAPE ? 0x20 : code);
      continue;
    }
    const ext = GSM_EXTENSION[ch];
    if (ext === undefined) return null;
    out.push(GSM_ESCAPE, ext);
  }
  return Buffer.from(out);
}

/** The text in UCS-2 (UTF-16 big-endian code units; a surrogate pair is two units). */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, "utf16le").swap16();
}

/**
 * Text of a short_message by its data_coding: GSM 03.38 default alphabet (0), IA5/ASCII (1),
 * UCS-2 (8); anything else (Latin-1, binary …) byte for byte as Latin-1. An unknown extension
 * code reads as a space, as 3GPP TS 23.038 §6.2.1.1 says a receiver should.
 */
export function decodeText(bytes: Buffer, dataCoding: number): string {
  const coding = dataCoding & 0x0f;
  if (coding === 0x08) {
    const even = bytes.subarray(0, bytes.length & ~1);
    return Buffer.from(even).swap16().toString("utf16le");
  }
  if (coding === 0x00) {
    let text = "";
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]! & 0x7f;
      if (b === GSM_ESCAPE && i + 1 < bytes.length) {
        text += extensionChar.get(bytes[++i]! & 0x7f) ?? " ";
      } else text += GSM_BASIC[b];
    }
    return text;
  }
  return bytes.toString("latin1");
}
