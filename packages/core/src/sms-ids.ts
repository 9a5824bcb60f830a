/**
 * SMSC message ids, matched between a submit_sm_resp and the receipts that name it. SMSCs render
 * one id in different ways: hex in the submit_sm_resp and decimal in the receipt text (or the
 * reverse, Kannel's `msg-id-type`), upper or lower case, with or without leading zeros. An id is
 * stored in its canonical form, and a receipt's id is looked up under each rendering its
 * provider's format allows, the exact one first.
 */

/**
 * How a provider renders ids: `auto` (exact first, then the other base), `same` (only exact),
 * or a fixed pair of bases (submit_sm_resp, receipt).
 */
export type ReceiptIdFormat =
  | "auto"
  | "same"
  | "submitHexReceiptDecimal"
  | "submitDecimalReceiptHex";
export const receiptIdFormats: readonly ReceiptIdFormat[] = [
  "auto",
  "same",
  "submitHexReceiptDecimal",
  "submitDecimalReceiptHex",
];

/** Ids longer than this are compared as text only (no SMSC numbers its messages beyond 2^128). */
const MAX_NUMERIC_DIGITS = 40;

/** An id as stored: trimmed, lower case, leading zeros dropped (`"0"` stays `"0"`). */
export function canonicalSmsId(id: string): string {
  const lower = id.trim().toLowerCase();
  const stripped = lower.replace(/^0+/u, "");
  return stripped === "" && lower !== "" ? "0" : stripped;
}

const isDecimal = (s: string) => /^[0-9]+$/u.test(s) && s.length <= MAX_NUMERIC_DIGITS;
const isHex = (s: string) => /^[0-9a-f]+$/u.test(s) && s.length <= MAX_NUMERIC_DIGITS;
const hexToDecimal = (s: string) => BigInt(`0x${s}`).toString(10);
const decimalToHex = (s: string) => BigInt(s).toString(16);

/**
 * The stored ids a receipt's id may stand for, most likely first. With `auto`, a receipt id
 * that reads as decimal may name a hex submit id and one that reads as hex a decimal one; the
 * exact rendering is preferred when both exist.
 */
export function receiptIdCandidates(id: string, format: ReceiptIdFormat = "auto"): string[] {
  const exact = canonicalSmsId(id);
  if (exact === "") return [];
  const out = [exact];
  const add = (v: string) => {
    if (!out.includes(v)) out.push(v);
  };
  if (format === "same") return out;
  if (format === "submitHexReceiptDecimal") {
    return isDecimal(exact) ? [decimalToHex(exact)] : out;
  }
  if (format === "submitDecimalReceiptHex") {
    return isHex(exact) ? [hexToDecimal(exact)] : out;
  }
  if (isDecimal(exact)) add(decimalToHex(exact));
  if (isHex(exact)) add(hexToDecimal(exact));
  return out;
}
