/**
 * SMS text encoding (3GPP TS 23.038): a text that fits the GSM 7-bit default alphabet (with its
 * extension table, whose characters take two septets) is sent as GSM-7, anything else as UCS-2.
 * A single message holds 160 septets or 70 UCS-2 units; a long one is split into parts of 153 or
 * 67, the rest of each part carrying the concatenation header (UDH).
 */
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "\f^{}\\[~]|€";
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export interface SmsTextInfo {
  encoding: "gsm7" | "ucs2";
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** Messages the text is sent as (1 when it fits in one). */
  segments: number;
}

export function smsTextInfo(text: string): SmsTextInfo {
  let septets = 0;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else {
      const units = text.length; // UTF-16 code units: what UCS-2 carries (surrogate pairs count 2)
      return { encoding: "ucs2", units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return {
    encoding: "gsm7",
    units: septets,
    segments: septets <= 160 ? 1 : Math.ceil(septets / 153),
  };
}
