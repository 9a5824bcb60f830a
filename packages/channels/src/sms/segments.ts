import { Buffer } from "node:buffer";
import { smsTextInfo } from "@sendgate/core";
import { encodeGsm7, encodeUcs2, GSM_ESCAPE } from "./text.ts";

/**
 * How a text too long for one SMS travels, a provider's choice:
 * - `udh`: parts, each with a concatenation User Data Header (esm_class 0x40, information element
 *   0x00 with an 8-bit reference; 3GPP TS 23.040 §9.2.3.24.1) — what every SMSC and handset knows;
 * - `sar`: parts, the same information in the SAR TLVs (sar_msg_ref_num, sar_total_segments,
 *   sar_segment_seqnum), the SMSC writing the UDH itself;
 * - `payload`: one submit_sm with the whole text in message_payload, the SMSC splitting it.
 */
export type LongMessageMode = "udh" | "sar" | "payload";

/** One submit_sm's text fields. */
export interface SubmitPart {
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  shortMessage: Buffer;
  messagePayload?: Buffer;
  sar?: { ref: number; total: number; seq: number };
}

export interface Segmentation {
  encoding: "gsm7" | "ucs2";
  parts: SubmitPart[];
  /** Index of the part that asks for a receipt (whose message id the receipt will name). */
  receiptPart: number;
}

export interface SegmentOptions {
  mode?: LongMessageMode;
  /** Concatenation reference: its low 8 bits in a UDH, 16 in SAR. Differs between messages. */
  reference: number;
  /** Ask for a delivery receipt (registered_delivery 1); true by default. */
  receipt?: boolean;
  /**
   * Which part of a long message asks for it: one receipt per message, not one per part. `first`
   * by default: an SMSC that reassembles long messages (ours, the simulator's, and aggregators
   * that report per message) reads the request from the part that opens the message and names
   * the first part's id in its one receipt. `last` suits SMSCs that treat each part alone.
   */
  receiptOn?: "first" | "last";
}

/** Septets of one SMS, and of each part once the 6-octet UDH (7 septets) takes its share. */
const GSM_SINGLE = 160;
const GSM_PART = 153;
/** UCS-2 code units of one SMS, and of each part. */
const UCS2_SINGLE = 70;
const UCS2_PART = 67;
/** The most parts a message may have: total and seq are one octet. */
export const MAX_PARTS = 255;

/** Cuts GSM septets into parts, never between an ESC and the character it escapes. */
function cutSeptets(septets: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < septets.length;) {
    let end = Math.min(start + GSM_PART, septets.length);
    // An ESC is always an escape here (no extension code is 0x1B, a literal ESC is sent as a
    // space): one ending a part would leave its character to be read from the basic table.
    if (end < septets.length && septets[end - 1] === GSM_ESCAPE) end--;
    parts.push(septets.subarray(start, end));
    start = end;
  }
  return parts;
}

/** Cuts UCS-2 into parts, never between the two halves of a surrogate pair. */
function cutUcs2(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(start + UCS2_PART * 2, bytes.length);
    const last = end < bytes.length ? bytes.readUInt16BE(end - 2) : 0;
    if (last >= 0xd800 && last <= 0xdbff) end -= 2;
    parts.push(bytes.subarray(start, end));
    start = end;
  }
  return parts;
}

/**
 * The submit_sm parts of a text: GSM-7 (data_coding 0) when every character is in the GSM 03.38
 * alphabet as `smsTextInfo` judges it, else UCS-2 (data_coding 8); one part when it fits in one
 * SMS, else parts as `mode` says. Throws RangeError past 255 parts (a caller's check).
 */
export function segmentText(text: string, options: SegmentOptions): Segmentation {
  const mode = options.mode ?? "udh";
  const gsm = smsTextInfo(text).encoding === "gsm7" ? encodeGsm7(text) : null;
  const encoding = gsm ? "gsm7" : "ucs2";
  const bytes = gsm ?? encodeUcs2(text);
  const dataCoding = gsm ? 0x00 : 0x08;
  const single = gsm ? bytes.length <= GSM_SINGLE : bytes.length <= UCS2_SINGLE * 2;
  const registeredDelivery = options.receipt === false ? 0 : 1;

  if (single || mode === "payload") {
    const part: SubmitPart = single
      ? { esmClass: 0, dataCoding, registeredDelivery, shortMessage: bytes }
      : {
        esmClass: 0,
        dataCoding,
        registeredDelivery,
        shortMessage: Buffer.alloc(0),
        messagePayload: bytes,
      };
    return { encoding, parts: [part], receiptPart: 0 };
  }

  const chunks = gsm ? cutSeptets(bytes) : cutUcs2(bytes);
  const total = chunks.length;
  if (total > MAX_PARTS) throw new RangeError(`the text needs ${total} parts; at most 255`);
  const receiptPart = options.receiptOn === "last" ? total - 1 : 0;
  const parts = chunks.map((chunk, i): SubmitPart => {
    const rd = i === receiptPart ? registeredDelivery : 0;
    if (mode === "sar") {
      return {
        esmClass: 0,
        dataCoding,
        registeredDelivery: rd,
        shortMessage: chunk,
        sar: { ref: options.reference & 0xffff, total, seq: i + 1 },
      };
    }
    const udh = Buffer.from([0x05, 0x00, 0x03, options.reference & 0xff, total, i + 1]);
    return {
      esmClass: 0x40,
      dataCoding,
      registeredDelivery: rd,
      shortMessage: Buffer.concat([udh, chunk]),
    };
  });
  return { encoding, parts, receiptPart };
}
