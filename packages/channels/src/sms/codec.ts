import { Buffer } from "node:buffer";

/**
 * A direct SMPP 3.4 codec for the PDUs an ESME and an SMSC exchange on a live bind: binds and
 * their responses, submit_sm, deliver_sm and their responses, enquire_link, unbind and
 * generic_nack (SMPP 3.4 §4). The smpp package's generic codec walks every field through filters
 * and re-detects text encodings on each PDU, which cost more than half the SMSC's time per
 * message; these functions read and write the fixed layouts directly. Text is bytes here: its
 * encoding is `text.ts`'s business, so nothing is guessed.
 *
 * Decoders take one whole frame (header included, `frame.length` = command_length) and throw
 * `MalformedPdu` when a field runs past its end; encoders return the frame to write.
 */

export const commandId = {
  genericNack: 0x80000000,
  bindReceiver: 0x00000001,
  bindReceiverResp: 0x80000001,
  bindTransmitter: 0x00000002,
  bindTransmitterResp: 0x80000002,
  submitSm: 0x00000004,
  submitSmResp: 0x80000004,
  deliverSm: 0x00000005,
  deliverSmResp: 0x80000005,
  unbind: 0x00000006,
  unbindResp: 0x80000006,
  bindTransceiver: 0x00000009,
  bindTransceiverResp: 0x80000009,
  enquireLink: 0x00000015,
  enquireLinkResp: 0x80000015,
} as const;

/** command_status values the client and the SMSC use by name (SMPP 3.4 §5.1.3). */
export const commandStatus = {
  ok: 0x00,
  invalidMessageLength: 0x01,
  invalidCommandLength: 0x02,
  invalidCommandId: 0x03,
  invalidBindStatus: 0x04,
  alreadyBound: 0x05,
  systemError: 0x08,
  invalidDestination: 0x0b,
  bindFailed: 0x0d,
  invalidPassword: 0x0e,
  invalidSystemId: 0x0f,
  queueFull: 0x14,
  submitFailed: 0x45,
  invalidSystemType: 0x53,
  throttled: 0x58,
  temporaryAppError: 0x64,
} as const;

/** TLV tags read or written here (SMPP 3.4 §5.3.2). */
export const tag = {
  scInterfaceVersion: 0x0210,
  receiptedMessageId: 0x001e,
  userMessageReference: 0x0204,
  sarMsgRefNum: 0x020c,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  networkErrorCode: 0x0423,
  messagePayload: 0x0424,
  messageState: 0x0427,
} as const;

/** Largest PDU either side accepts. The smpp package says 16 KiB; message_payload may be 64 KiB. */
export const MAX_PDU_LENGTH = 70_000;

/** A body that does not fit its command_length: answered with generic_nack ESME_RINVCMDLEN. */
export class MalformedPdu extends Error {}

export interface PduHeader {
  length: number;
  id: number;
  status: number;
  sequence: number;
}

/** The 16-octet header of a frame of at least 16 octets. */
export function decodeHeader(frame: Buffer): PduHeader {
  return {
    length: frame.readUInt32BE(0),
    id: frame.readUInt32BE(4),
    status: frame.readUInt32BE(8),
    sequence: frame.readUInt32BE(12),
  };
}

function header(length: number, id: number, status: number, sequence: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(length, 0);
  buffer.writeUInt32BE(id, 4);
  buffer.writeUInt32BE(status, 8);
  buffer.writeUInt32BE(sequence, 12);
  return buffer;
}

/** A PDU without a body: enquire_link(_resp), unbind(_resp), generic_nack, an error response. */
export function encodeHeaderOnly(id: number, status: number, sequence: number): Buffer {
  return header(16, id, status, sequence);
}

export const encodeEnquireLink = (sequence: number) =>
  header(16, commandId.enquireLink, 0, sequence);
export const encodeEnquireLinkResp = (sequence: number) =>
  header(16, commandId.enquireLinkResp, 0, sequence);
export const encodeUnbind = (sequence: number) => header(16, commandId.unbind, 0, sequence);
export const encodeUnbindResp = (sequence: number) => header(16, commandId.unbindResp, 0, sequence);
/** generic_nack: the sequence number is the offending PDU's, 0 when it could not be read. */
export const encodeGenericNack = (status: number, sequence: number) =>
  header(16, commandId.genericNack, status, sequence);

// ---------------------------------------------------------------------------------------------
// Reading and writing fields

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

function writeCstring(buffer: Buffer, offset: number, value: string): number {
  const end = offset + buffer.write(value, offset, "latin1");
  buffer[end] = 0;
  return end + 1;
}

/** Octets of a C-octet string once written (Latin-1: one octet per character). */
const cLength = (value: string) => value.length + 1;

/** The TLVs from `offset` to the frame's end, by tag (the first of a repeated tag wins). */
function readTlvs(frame: Buffer, offset: number): Map<number, Buffer> {
  const tlvs = new Map<number, Buffer>();
  const end = frame.length;
  while (offset + 4 <= end) {
    const t = frame.readUInt16BE(offset);
    const length = frame.readUInt16BE(offset + 2);
    offset += 4;
    if (offset + length > end) throw new MalformedPdu("TLV longer than the PDU");
    if (!tlvs.has(t)) tlvs.set(t, frame.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== end) throw new MalformedPdu("trailing bytes after the last TLV");
  return tlvs;
}

const tlvInt8 = (v: Buffer | undefined) => (v?.length === 1 ? v[0]! : undefined);
const tlvInt16 = (v: Buffer | undefined) => (v?.length === 2 ? v.readUInt16BE(0) : undefined);
/** A C-octet string TLV; tolerant of a missing terminator (some SMSCs leave it out). */
const tlvCstring = (v: Buffer | undefined) => {
  if (!v) return undefined;
  const stop = v.indexOf(0);
  return v.toString("latin1", 0, stop < 0 ? v.length : stop);
};

function sarOf(tlvs: Map<number, Buffer>): { ref: number; total: number; seq: number } | undefined {
  const ref = tlvInt16(tlvs.get(tag.sarMsgRefNum));
  const total = tlvInt8(tlvs.get(tag.sarTotalSegments));
  const seq = tlvInt8(tlvs.get(tag.sarSegmentSeqnum));
  return ref !== undefined && total !== undefined && seq !== undefined
    ? { ref, total, seq }
    : undefined;
}

/** Writes TLVs at `offset`; returns the offset after them. */
function writeTlv(buffer: Buffer, offset: number, t: number, value: Buffer | number, size = 0) {
  buffer.writeUInt16BE(t, offset);
  if (typeof value === "number") {
    buffer.writeUInt16BE(size, offset + 2);
    if (size === 1) buffer[offset + 4] = value;
    else buffer.writeUInt16BE(value, offset + 4);
    return offset + 4 + size;
  }
  buffer.writeUInt16BE(value.length, offset + 2);
  value.copy(buffer, offset + 4);
  return offset + 4 + value.length;
}

// ---------------------------------------------------------------------------------------------
// Binds

export type BindMode = "transceiver" | "transmitter" | "receiver";

const bindIds: Record<BindMode, number> = {
  transceiver: commandId.bindTransceiver,
  transmitter: commandId.bindTransmitter,
  receiver: commandId.bindReceiver,
};

/** The bind mode of a bind command id (request or response), null for any other command. */
export function bindModeOf(id: number): BindMode | null {
  switch (id & 0x7fffffff) {
    case commandId.bindTransceiver:
      return "transceiver";
    case commandId.bindTransmitter:
      return "transmitter";
    case commandId.bindReceiver:
      return "receiver";
    default:
      return null;
  }
}

export interface Bind {
  sequence: number;
  mode: BindMode;
  systemId: string;
  password: string;
  systemType: string;
  /** 0x34 for SMPP 3.4. */
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

/** bind_transceiver, bind_transmitter or bind_receiver (SMPP 3.4 §4.1). */
export function encodeBind(b: Bind): Buffer {
  const length = 16 + cLength(b.systemId) + cLength(b.password) + cLength(b.systemType) + 3 +
    cLength(b.addressRange);
  const buffer = header(length, bindIds[b.mode], 0, b.sequence);
  let offset = writeCstring(buffer, 16, b.systemId);
  offset = writeCstring(buffer, offset, b.password);
  offset = writeCstring(buffer, offset, b.systemType);
  buffer[offset++] = b.interfaceVersion;
  buffer[offset++] = b.addrTon;
  buffer[offset++] = b.addrNpi;
  writeCstring(buffer, offset, b.addressRange);
  return buffer;
}

export function decodeBind(frame: Buffer): Bind {
  const id = frame.readUInt32BE(4);
  const mode = bindModeOf(id);
  if (!mode || id & 0x80000000) throw new MalformedPdu("not a bind");
  const c: Cursor = { frame, end: frame.length, offset: 16 };
  const bind: Bind = {
    sequence: frame.readUInt32BE(12),
    mode,
    systemId: cstring(c, 16),
    password: cstring(c, 9),
    systemType: cstring(c, 13),
    interfaceVersion: int8(c),
    addrTon: int8(c),
    addrNpi: int8(c),
    addressRange: cstring(c, 41),
  };
  return bind;
}

export interface BindResp {
  sequence: number;
  mode: BindMode;
  status: number;
  /** The SMSC's system_id ("" when an error response came without a body). */
  systemId: string;
  scInterfaceVersion?: number;
}

/** bind_*_resp: the SMSC's system_id and sc_interface_version; a bare header on error. */
export function encodeBindResp(r: BindResp): Buffer {
  const id = bindIds[r.mode] | 0x80000000;
  if (r.status !== 0) return header(16, id >>> 0, r.status, r.sequence);
  const length = 16 + cLength(r.systemId) + (r.scInterfaceVersion === undefined ? 0 : 5);
  const buffer = header(length, id >>> 0, 0, r.sequence);
  const offset = writeCstring(buffer, 16, r.systemId);
  if (r.scInterfaceVersion !== undefined) {
    writeTlv(buffer, offset, tag.scInterfaceVersion, r.scInterfaceVersion, 1);
  }
  return buffer;
}

export function decodeBindResp(frame: Buffer): BindResp {
  const id = frame.readUInt32BE(4);
  const mode = bindModeOf(id);
  if (!mode || !(id & 0x80000000)) throw new MalformedPdu("not a bind response");
  const resp: BindResp = {
    sequence: frame.readUInt32BE(12),
    mode,
    status: frame.readUInt32BE(8),
    systemId: "",
  };
  // SMPP 3.4 §4.1.2: no body on error; some SMSCs send one anyway, or an unterminated id.
  if (frame.length === 16) return resp;
  const stop = frame.indexOf(0, 16);
  resp.systemId = frame.toString("latin1", 16, stop < 0 ? frame.length : stop);
  if (stop >= 0 && stop + 1 < frame.length) {
    const v = tlvInt8(readTlvs(frame, stop + 1).get(tag.scInterfaceVersion));
    if (v !== undefined) resp.scInterfaceVersion = v;
  }
  return resp;
}

// ---------------------------------------------------------------------------------------------
// submit_sm and deliver_sm: the same layout (SMPP 3.4 §4.4.1, §4.6.1)

/** The mandatory fields shared by submit_sm and deliver_sm, and the TLVs read or written here. */
export interface ShortMessage {
  sequence: number;
  serviceType: string;
  sourceTon: number;
  sourceNpi: number;
  source: string;
  destTon: number;
  destNpi: number;
  destination: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresent: number;
  dataCoding: number;
  smDefaultMsgId: number;
  /** short_message as sent (a UDH included when esm_class has 0x40). */
  shortMessage: Buffer;
  messagePayload?: Buffer;
  userMessageReference?: number;
  sar?: { ref: number; total: number; seq: number };
}

/** What a submit_sm needs at least; the rest defaults to zero and empty. */
export type SubmitSmFields =
  & Pick<ShortMessage, "sequence" | "destination" | "shortMessage">
  & Partial<Omit<ShortMessage, "sequence" | "destination" | "shortMessage">>;

function encodeShortMessage(id: number, m: SubmitSmFields, extra?: DeliverSmTlvs): Buffer {
  const serviceType = m.serviceType ?? "";
  const source = m.source ?? "";
  const schedule = m.scheduleDeliveryTime ?? "";
  const validity = m.validityPeriod ?? "";
  const sm = m.shortMessage;
  if (sm.length > 254) throw new RangeError("short_message is longer than 254 octets");
  let length = 16 + cLength(serviceType) + 2 + cLength(source) + 2 + cLength(m.destination) + 3 +
    cLength(schedule) + cLength(validity) + 5 + sm.length;
  if (m.userMessageReference !== undefined) length += 6;
  if (m.sar) length += 6 + 5 + 5;
  if (m.messagePayload) length += 4 + m.messagePayload.length;
  if (extra?.receiptedMessageId !== undefined) length += 4 + cLength(extra.receiptedMessageId);
  if (extra?.messageState !== undefined) length += 5;
  if (extra?.networkErrorCode) length += 7;

  const buffer = header(length, id, 0, m.sequence);
  let offset = writeCstring(buffer, 16, serviceType);
  buffer[offset++] = m.sourceTon ?? 0;
  buffer[offset++] = m.sourceNpi ?? 0;
  offset = writeCstring(buffer, offset, source);
  buffer[offset++] = m.destTon ?? 0;
  buffer[offset++] = m.destNpi ?? 0;
  offset = writeCstring(buffer, offset, m.destination);
  buffer[offset++] = m.esmClass ?? 0;
  buffer[offset++] = m.protocolId ?? 0;
  buffer[offset++] = m.priorityFlag ?? 0;
  offset = writeCstring(buffer, offset, schedule);
  offset = writeCstring(buffer, offset, validity);
  buffer[offset++] = m.registeredDelivery ?? 0;
  buffer[offset++] = m.replaceIfPresent ?? 0;
  buffer[offset++] = m.dataCoding ?? 0;
  buffer[offset++] = m.smDefaultMsgId ?? 0;
  buffer[offset++] = sm.length;
  sm.copy(buffer, offset);
  offset += sm.length;
  if (m.userMessageReference !== undefined) {
    offset = writeTlv(buffer, offset, tag.userMessageReference, m.userMessageReference, 2);
  }
  if (m.sar) {
    offset = writeTlv(buffer, offset, tag.sarMsgRefNum, m.sar.ref, 2);
    offset = writeTlv(buffer, offset, tag.sarTotalSegments, m.sar.total, 1);
    offset = writeTlv(buffer, offset, tag.sarSegmentSeqnum, m.sar.seq, 1);
  }
  if (m.messagePayload) offset = writeTlv(buffer, offset, tag.messagePayload, m.messagePayload);
  if (extra?.receiptedMessageId !== undefined) {
    buffer.writeUInt16BE(tag.receiptedMessageId, offset);
    buffer.writeUInt16BE(cLength(extra.receiptedMessageId), offset + 2);
    offset = writeCstring(buffer, offset + 4, extra.receiptedMessageId);
  }
  if (extra?.messageState !== undefined) {
    offset = writeTlv(buffer, offset, tag.messageState, extra.messageState, 1);
  }
  if (extra?.networkErrorCode) {
    buffer.writeUInt16BE(tag.networkErrorCode, offset);
    buffer.writeUInt16BE(3, offset + 2);
    buffer[offset + 4] = extra.networkErrorCode[0];
    buffer.writeUInt16BE(extra.networkErrorCode[1], offset + 5);
  }
  return buffer;
}

function decodeShortMessage(frame: Buffer): { m: ShortMessage; tlvs: Map<number, Buffer> } {
  const c: Cursor = { frame, end: frame.length, offset: 16 };
  const serviceType = cstring(c, 6);
  const sourceTon = int8(c);
  const sourceNpi = int8(c);
  const source = cstring(c, 65);
  const destTon = int8(c);
  const destNpi = int8(c);
  const destination = cstring(c, 65);
  const esmClass = int8(c);
  const protocolId = int8(c);
  const priorityFlag = int8(c);
  const scheduleDeliveryTime = cstring(c, 17);
  const validityPeriod = cstring(c, 17);
  const registeredDelivery = int8(c);
  const replaceIfPresent = int8(c);
  const dataCoding = int8(c);
  const smDefaultMsgId = int8(c);
  const smLength = int8(c);
  if (c.offset + smLength > c.end) throw new MalformedPdu("short_message longer than the PDU");
  const shortMessage = frame.subarray(c.offset, c.offset + smLength);
  const tlvs = readTlvs(frame, c.offset + smLength);
  const m: ShortMessage = {
    sequence: frame.readUInt32BE(12),
    serviceType,
    sourceTon,
    sourceNpi,
    source,
    destTon,
    destNpi,
    destination,
    esmClass,
    protocolId,
    priorityFlag,
    scheduleDeliveryTime,
    validityPeriod,
    registeredDelivery,
    replaceIfPresent,
    dataCoding,
    smDefaultMsgId,
    shortMessage,
  };
  const payload = tlvs.get(tag.messagePayload);
  if (payload) m.messagePayload = payload;
  const reference = tlvInt16(tlvs.get(tag.userMessageReference));
  if (reference !== undefined) m.userMessageReference = reference;
  const sar = sarOf(tlvs);
  if (sar) m.sar = sar;
  return { m, tlvs };
}

/** submit_sm (SMPP 3.4 §4.4.1). */
export function encodeSubmitSm(m: SubmitSmFields): Buffer {
  return encodeShortMessage(commandId.submitSm, m);
}

/** A decoded submit_sm, as the SMSC reads it. */
export interface SubmitSm extends ShortMessage {
  /** short_message, or message_payload when short_message is empty. */
  message: Buffer;
}

/** Decodes a whole submit_sm frame (header included). Throws MalformedPdu when fields run past the end. */
export function decodeSubmitSm(frame: Buffer): SubmitSm {
  const { m } = decodeShortMessage(frame);
  const message = m.shortMessage.length === 0 && m.messagePayload
    ? m.messagePayload
    : m.shortMessage;
  return { ...m, message };
}

export interface SubmitSmResp {
  sequence: number;
  status: number;
  /** "" when the response had no body (errors) or an empty id. */
  messageId: string;
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
  const buffer = header(16 + cLength(messageId), commandId.submitSmResp, 0, sequence);
  writeCstring(buffer, 16, messageId);
  return buffer;
}

/**
 * Reads a submit_sm_resp. Tolerant on purpose: the message id runs to its NUL or to the end of
 * the frame (some SMSCs leave the terminator out), TLVs after it are ignored. A response is
 * never refused for its form: its sequence number and status are what the ESME waits for.
 */
export function decodeSubmitSmResp(frame: Buffer): SubmitSmResp {
  const stop = frame.indexOf(0, 16);
  return {
    sequence: frame.readUInt32BE(12),
    status: frame.readUInt32BE(8),
    messageId: frame.length > 16
      ? frame.toString("latin1", 16, stop < 0 ? frame.length : stop).trim()
      : "",
  };
}

/** The receipt TLVs of a deliver_sm. */
export interface DeliverSmTlvs {
  receiptedMessageId?: string;
  messageState?: number;
  /** network_error_code: [network type (1 ANSI-136, 2 IS-95, 3 GSM …), error code]. */
  networkErrorCode?: [number, number];
}

/** A decoded deliver_sm: a receipt or a mobile-originated message. */
export interface DeliverSm extends ShortMessage, DeliverSmTlvs {}

/** deliver_sm with any fields (an SMSC's side, and fake SMSCs in tests). */
export function encodeDeliverSmPdu(m: SubmitSmFields & DeliverSmTlvs): Buffer {
  return encodeShortMessage(commandId.deliverSm, m, m);
}

export function decodeDeliverSm(frame: Buffer): DeliverSm {
  const { m, tlvs } = decodeShortMessage(frame);
  const d: DeliverSm = m;
  const receipted = tlvCstring(tlvs.get(tag.receiptedMessageId));
  if (receipted !== undefined) d.receiptedMessageId = receipted;
  const state = tlvInt8(tlvs.get(tag.messageState));
  if (state !== undefined) d.messageState = state;
  const network = tlvs.get(tag.networkErrorCode);
  if (network?.length === 3) d.networkErrorCode = [network[0]!, network.readUInt16BE(1)];
  return d;
}

/** deliver_sm_resp: message_id unused and empty (SMPP 3.4 §4.6.2); a bare header on error. */
export function encodeDeliverSmResp(sequence: number, status: number): Buffer {
  if (status !== 0) return header(16, commandId.deliverSmResp, status, sequence);
  const buffer = header(17, commandId.deliverSmResp, 0, sequence);
  buffer[16] = 0;
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

/** deliver_sm carrying a delivery receipt: the SMSC's hot path, every other field zero. */
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

export { decodeText } from "./text.ts";
