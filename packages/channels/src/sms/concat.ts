import type { Buffer } from "node:buffer";
import type { SubmitSm } from "./codec.ts";

/**
 * Concatenated (long) messages: which part of which message a submit_sm carries. Two ways exist
 * and gateways use both: a User Data Header in the short_message (esm_class bit 0x40, information
 * element 0x00 with an 8-bit reference or 0x08 with a 16-bit one, 3GPP TS 23.040 §9.2.3.24.1 and
 * .8), or the SAR TLVs of SMPP 3.4 (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum).
 */
export interface PartInfo {
  how: "udh8" | "udh16" | "sar";
  ref: number;
  total: number;
  seq: number;
}

const valid = (p: PartInfo) => (p.total > 1 && p.seq >= 1 && p.seq <= p.total ? p : null);

/** The UDH's length in octets (UDHL included), 0 without one. */
export function udhLength(pdu: Pick<SubmitSm, "esmClass" | "message">): number {
  if (!(pdu.esmClass & 0x40) || pdu.message.length === 0) return 0;
  return Math.min(pdu.message[0]! + 1, pdu.message.length);
}

export function partInfo(pdu: Pick<SubmitSm, "esmClass" | "message" | "sar">): PartInfo | null {
  if (pdu.sar) return valid({ how: "sar", ...pdu.sar });
  const end = udhLength(pdu);
  const m: Buffer = pdu.message;
  for (let i = 1; i + 1 < end;) {
    const iei = m[i]!;
    const len = m[i + 1]!;
    const data = i + 2;
    if (data + len > end) break;
    if (iei === 0x00 && len === 3) {
      return valid({ how: "udh8", ref: m[data]!, total: m[data + 1]!, seq: m[data + 2]! });
    }
    if (iei === 0x08 && len === 4) {
      return valid({
        how: "udh16",
        ref: (m[data]! << 8) | m[data + 1]!,
        total: m[data + 2]!,
        seq: m[data + 3]!,
      });
    }
    i = data + len;
  }
  return null;
}
