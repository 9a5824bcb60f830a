import { Buffer } from "node:buffer";

/**
 * A direct codec for the three PDUs on the SMSC's hot path: submit_sm in, submit_sm_resp and
 * deliver_sm out (SMPP 3.4 §4.4.1, §4.4.2, §4.6.1). The smpp package's generic codec walks every
 * field through filters and re-detects text encodings on each PDU, which cost more than half the
 * server's time per message; everything else (binds, enquire_link, unbind, responses from the
 * ESME, unknown commands) still goes through the package.
 */

export const commandId = {
  genericNack: 0x80000000,
  submitSm: 0x00000004,
  submitSmResp: 0x80000004,
  deliverSm: 0x00000005,
} as const;

/** TLV tags read or written here (SMPP 3.4 §5.3.2). */
export const tag = {
  receiptedMessageId: 0x001e,
  userMessageReference: 0x0204,
  sarMsgRefNum: 0x020c,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  networkErrorCode: 0x0423,
  messagePayload: 0x0424,
  messageState: 0x0427,
} as const;

export interface SubmitSm {
  sequence: number;
  serviceType: string;
  sourceTon: number;
  sourceNpi: number;
  source: string;
  destTon: number;
  destNpi: number;
  destination: string;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  /** short_message, or message_payload when short_message is empty. */
  message: Buffer;
  userMessageReference?: number;
  sar?: { ref: number; total: number; seq: number };
}

/** A body that does not fit its command_length: answered with generic_nack ESME_RINVCMDLEN. */
export class MalformedPdu extends Error {}

/** Decodes a whole submit_sm frame (header included). Throws MalformedPdu when fields run past the end. */
export function decodeSubmitSm(frame: Buffer): SubmitSm {
  const end = frame.length;
  const cursor = { frame, end, offset: 16 };
  const serviceType = cstring(cursor, 6);
  const sourceTon = int8(cursor);
  const sourceNpi = int8(cursor);
  const source = cstring(cursor, 65);
  const destTon = int8(cursor);
  const destNpi = int8(cursor);
  const destination = cstring(cursor, 65);
  const esmClass = int8(cursor);
  cursor.offset += 2; // protocol_id, priority_flag
  cstring(cursor, 17); // schedule_delivery_time
  cstring(cursor, 17); // validity_period
  const registeredDelivery = int8(cursor);
  int8(cursor); // replace_if_present_flag
  const dataCoding = int8(cursor);
  int8(cursor); // sm_default_msg_id
  const smLength = int8(cursor);
  let offset = cursor.offset;
  if (offset + smLength > end) throw new MalformedPdu("short_message longer than the PDU");
  let message = frame.subarray(offset, offset + smLength);
  offset += smLength;
  const pdu: SubmitSm = {
    sequence: frame.readUInt32BE(12),
    serviceType,
    sourceTon,
    sourceNpi,
    source,
    destTon,
    destNpi,
    destination,
    esmClass,
    registeredDelivery,
    dataCoding,
    message,
  };
  let sarRef: number | undefined;
  let sarTotal: number | undefined;
  let sarSeq: number | undefined;
  while (offset + 4 <= end) {
    const t = frame.readUInt16BE(offset);
    const length = frame.readUInt16BE(offset + 2);
    offset += 4;
    if (offset + length > end) throw new MalformedPdu("TLV longer than the PDU");
    if (t === tag.userMessageReference && length === 2) {
      pdu.userMessageReference = frame.readUInt16BE(offset);
    } else if (t === tag.sarMsgRefNum && length === 2) sarRef = frame.readUInt16BE(offset);
    else if (t === tag.sarTotalSegments && length === 1) sarTotal = frame[offset]!;
    else if (t === tag.sarSegmentSeqnum && length === 1) sarSeq = frame[offset]!;
    else if (t === tag.messagePayload && message.length === 0) {
      message = frame.subarray(offset, offset + length);
    }
    offset += length;
  }
  if (offset !== end) throw new MalformedPdu("trailing bytes after the last TLV");
  pdu.message = message;
  if (sarRef !== undefined && sarTotal !== undefined && sarSeq !== undefined) {
    pdu.sar = { ref: sarRef, total: sarTotal, seq: sarSeq };
  }
  return pdu;
}

interface Cursor {
  frame: Buffer;
  end: number;
  offset: number;
}

function cstring(c: Cursor, max: number): string {
  const stop = c.frame.indexOf(0, c.offset);
  if (stop < 0 || stop >= c.end || stop - c.offset > max) {
    throw new MalformedPdu("unterminated C-octet string");
  }
  const value = c.frame.toString("latin1", c.offset, stop);
  c.offset = stop + 1;
  return value;
}

function int8(c: Cursor): number {
  if (c.offset >= c.end) throw new MalformedPdu("body shorter than its fields");
  return c.frame[c.offset++]!;
}

function header(length: number, id: number, status: number, sequence: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(length, 0);
  buffer.writeUInt32BE(id, 4);
  buffer.writeUInt32BE(status, 8);
  buffer.writeUInt32BE(sequence, 12);
  return buffer;
}

/**
 * submit_sm_resp: the message id on success; a bare header on error, as SMPP 3.4 §4.4.2 says
 * ("the submit_sm_resp PDU body is not returned if the command_status field contains a non-zero
 * value") and as the smpp package's client expects.
 */
export function encodeSubmitSmResp(sequence: number, status: number, messageId?: string): Buffer {
  if (status !== 0 || messageId === undefined) {
    return header(16, commandId.submitSmResp, status, sequence);
  }
  const buffer = header(16 + messageId.length + 1, commandId.submitSmResp, 0, sequence);
  buffer.write(messageId, 16, "latin1");
  buffer[buffer.length - 1] = 0;
  return buffer;
}

export interface DeliverSmReceipt {
  sequence: number;
  sourceTon: number;
  sourceNpi: number;
  source: string;
  destTon: number;
  destNpi: number;
  destination: string;
  esmClass: number;
  /** ASCII text (data_coding 0). */
  text: string;
  receiptedMessageId: string;
  messageState: number;
  /** network_error_code: [network type, error code]. */
  networkError?: [number, number];
}

/** deliver_sm carrying a delivery receipt. */
export function encodeDeliverSm(r: DeliverSmReceipt): Buffer {
  const text = Buffer.from(r.text.slice(0, 254), "latin1");
  // Header, service_type, source ton/npi/addr, destination ton/npi/addr, esm_class, eight
  // one-octet fields, sm_length and the text, then the TLVs.
  const length = 16 + 1 + 2 + r.source.length + 1 + 2 + r.destination.length + 1 + 1 + 8 + 1 +
    text.length +
    (4 + r.receiptedMessageId.length + 1) + (4 + 1) + (r.networkError ? 4 + 3 : 0);
  const buffer = header(length, commandId.deliverSm, 0, r.sequence);
  let offset = 16;
  buffer[offset++] = 0; // service_type ""
  buffer[offset++] = r.sourceTon;
  buffer[offset++] = r.sourceNpi;
  offset = writeCstring(buffer, offset, r.source);
  buffer[offset++] = r.destTon;
  buffer[offset++] = r.destNpi;
  offset = writeCstring(buffer, offset, r.destination);
  buffer[offset++] = r.esmClass;
  // protocol_id, priority_flag, schedule_delivery_time "", validity_period "", registered_delivery,
  // replace_if_present_flag, data_coding (SMSC default), sm_default_msg_id: all zero.
  buffer.fill(0, offset, offset + 8);
  offset += 8;
  buffer[offset++] = text.length;
  text.copy(buffer, offset);
  offset += text.length;
  buffer.writeUInt16BE(tag.receiptedMessageId, offset);
  buffer.writeUInt16BE(r.receiptedMessageId.length + 1, offset + 2);
  offset = writeCstring(buffer, offset + 4, r.receiptedMessageId);
  buffer.writeUInt16BE(tag.messageState, offset);
  buffer.writeUInt16BE(1, offset + 2);
  buffer[offset + 4] = r.messageState;
  offset += 5;
  if (r.networkError) {
    buffer.writeUInt16BE(tag.networkErrorCode, offset);
    buffer.writeUInt16BE(3, offset + 2);
    buffer[offset + 4] = r.networkError[0];
    buffer.writeUInt16BE(r.networkError[1], offset + 5);
  }
  return buffer;
}

function writeCstring(buffer: Buffer, offset: number, value: string): number {
  const end = offset + buffer.write(value, offset, "latin1");
  buffer[end] = 0;
  return end + 1;
}

/** GSM 03.38 default alphabet (one septet per octet, as SMPP carries it) and its extension table. */
const gsm = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const gsmExtension: Record<number, string> = {
  0x0a: "\f",
  0x14: "^",
  0x28: "{",
  0x29: "}",
  0x2f: "\\",
  0x3c: "[",
  0x3d: "~",
  0x3e: "]",
  0x40: "|",
  0x65: "€",
};

/**
 * Text of a short_message by its data_coding: GSM 03.38 default alphabet (0), IA5/ASCII (1),
 * UCS-2 (8); anything else (Latin-1, binary …) byte for byte as Latin-1.
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
      if (b === 0x1b && i + 1 < bytes.length) text += gsmExtension[bytes[++i]! & 0x7f] ?? " ";
      else text += gsm[b];
    }
    return text;
  }
  return bytes.toString("latin1");
}
