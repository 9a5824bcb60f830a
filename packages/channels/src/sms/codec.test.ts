import { Buffer } from "node:buffer";
import fc from "fast-check";
import { PDU } from "smpp";
import { describe, expect, it } from "vitest";
import {
  decodeBind,
  decodeBindResp,
  decodeDeliverSm,
  decodeHeader,
  decodeSubmitSm,
  decodeSubmitSmResp,
  decodeText,
  encodeBind,
  encodeBindResp,
  encodeDeliverSm,
  encodeDeliverSmPdu,
  encodeDeliverSmResp,
  encodeEnquireLink,
  encodeEnquireLinkResp,
  encodeGenericNack,
  encodeHeaderOnly,
  encodeSubmitSm,
  encodeSubmitSmResp,
  encodeUnbind,
  encodeUnbindResp,
  MalformedPdu,
} from "./codec.ts";
import { partInfo } from "./concat.ts";

// The direct codec must speak exactly what the smpp package speaks: checked byte for byte.
describe("codec", () => {
  it("encodes submit_sm_resp as the package does, bare header on error", () => {
    expect(encodeSubmitSmResp(7, 0, "1a2b3c")).toEqual(
      new PDU("submit_sm_resp", { sequence_number: 7, message_id: "1a2b3c" }).toBuffer(),
    );
    const error = encodeSubmitSmResp(8, 0x58, "ignored");
    expect(error).toEqual(
      new PDU("submit_sm_resp", { sequence_number: 8, command_status: 0x58 }).toBuffer(),
    );
    expect(error.length).toBe(16);
    const parsed = new PDU(error);
    expect(parsed.command).toBe("submit_sm_resp");
    expect(parsed.command_status).toBe(0x58);
  });

  it("encodes receipts as the package does", () => {
    for (const networkError of [undefined, [3, 27] as [number, number]]) {
      const ours = encodeDeliverSm({
        sequence: 3,
        sourceTon: 1,
        sourceNpi: 1,
        source: "+15550000003",
        destTon: 5,
        destNpi: 0,
        destination: "Sendgate",
        esmClass: 0x04,
        text:
          "id:1a sub:001 dlvrd:000 submit date:2401311205 done date:2401311206 stat:UNDELIV err:027 text:",
        receiptedMessageId: "1a",
        messageState: 5,
        networkError,
      });
      const theirs = new PDU("deliver_sm", {
        sequence_number: 3,
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "+15550000003",
        dest_addr_ton: 5,
        dest_addr_npi: 0,
        destination_addr: "Sendgate",
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from(
          "id:1a sub:001 dlvrd:000 submit date:2401311205 done date:2401311206 stat:UNDELIV err:027 text:",
        ),
        receipted_message_id: "1a",
        message_state: 5,
        ...(networkError ? { network_error_code: Buffer.from([3, 0, 27]) } : {}),
      }).toBuffer();
      expect(ours).toEqual(theirs);
    }
  });

  it("decodes what the package encodes, TLVs and long-message headers included", () => {
    const arb = fc.record({
      destination_addr: fc.stringMatching(/^\+?\d{4,15}$/u),
      source_addr: fc.stringMatching(/^[A-Za-z0-9]{0,11}$/u),
      dest_addr_ton: fc.integer({ min: 0, max: 6 }),
      registered_delivery: fc.integer({ min: 0, max: 0x1f }),
      text: fc.uint8Array({ maxLength: 140 }),
      reference: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
      sar: fc.option(
        fc.record({
          ref: fc.integer({ min: 0, max: 0xffff }),
          total: fc.integer({ min: 2, max: 9 }),
          seq: fc.integer({ min: 1, max: 2 }),
        }),
        { nil: undefined },
      ),
    });
    fc.assert(fc.property(arb, (m) => {
      const fields: Record<string, unknown> = {
        sequence_number: 9,
        destination_addr: m.destination_addr,
        source_addr: m.source_addr,
        dest_addr_ton: m.dest_addr_ton,
        registered_delivery: m.registered_delivery,
        data_coding: 4,
        short_message: Buffer.from(m.text),
      };
      if (m.reference !== undefined) fields.user_message_reference = m.reference;
      if (m.sar) {
        Object.assign(fields, {
          sar_msg_ref_num: m.sar.ref,
          sar_total_segments: m.sar.total,
          sar_segment_seqnum: m.sar.seq,
        });
      }
      const sm = decodeSubmitSm(new PDU("submit_sm", fields).toBuffer());
      expect(sm).toMatchObject({
        sequence: 9,
        destination: m.destination_addr,
        source: m.source_addr,
        destTon: m.dest_addr_ton,
        registeredDelivery: m.registered_delivery,
        dataCoding: 4,
      });
      expect([...sm.message]).toEqual([...m.text]);
      expect(sm.userMessageReference).toBe(m.reference);
      expect(sm.sar).toEqual(m.sar);
    }));
  });

  it("finds 8-bit and 16-bit concatenation headers", () => {
    const udh8 = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02, ...Buffer.from("part two")]);
    const sm8 = decodeSubmitSm(
      new PDU("submit_sm", {
        destination_addr: "1",
        esm_class: 0x40,
        data_coding: 0,
        short_message: udh8,
      }).toBuffer(),
    );
    expect(partInfo(sm8)).toEqual({ how: "udh8", ref: 0x2a, total: 3, seq: 2 });
    const udh16 = Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01, ...Buffer.from("one")]);
    const sm16 = decodeSubmitSm(
      new PDU("submit_sm", {
        destination_addr: "1",
        esm_class: 0x40,
        data_coding: 0,
        short_message: udh16,
      }).toBuffer(),
    );
    expect(partInfo(sm16)).toEqual({ how: "udh16", ref: 0x1234, total: 2, seq: 1 });
    // Without the UDH indicator, the same bytes are text.
    expect(partInfo({ ...sm16, esmClass: 0 })).toBeNull();
  });

  it("refuses bodies that do not fit their length", () => {
    const good = new PDU("submit_sm", {
      destination_addr: "15550000000",
      short_message: Buffer.from("hi"),
    }).toBuffer();
    const cut = Buffer.from(good.subarray(0, 30));
    cut.writeUInt32BE(30, 0);
    expect(() => decodeSubmitSm(cut)).toThrow(MalformedPdu);
    const long = Buffer.from(good);
    long[long.length - 3] = 200; // sm_length past the end
    expect(() => decodeSubmitSm(long)).toThrow(MalformedPdu);
  });

  it("decodes GSM 03.38, ASCII and UCS-2 text", () => {
    expect(decodeText(Buffer.from([0x00, 0x41, 0x1b, 0x65, 0x11]), 0)).toBe("@A€_");
    expect(decodeText(Buffer.from("a@b_"), 1)).toBe("a@b_");
    expect(decodeText(Buffer.from("00e9004100d8", "hex"), 8)).toBe("éAØ");
  });
});

// The PDUs the client sends and reads, in both directions: what we write, the package reads to
// the same fields; what the package writes, we read to the same fields.
describe("codec against the smpp package, both directions", () => {
  const cstr = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9 ]{0,${max}}$`, "u"));
  const octet = fc.integer({ min: 0, max: 255 });
  const modes = ["transceiver", "transmitter", "receiver"] as const;

  it("binds", () => {
    const arb = fc.record({
      mode: fc.constantFrom(...modes),
      sequence: fc.integer({ min: 1, max: 0x7fffffff }),
      systemId: cstr(15),
      password: cstr(8),
      systemType: cstr(12),
      interfaceVersion: fc.constantFrom(0x33, 0x34, 0x50),
      addrTon: octet,
      addrNpi: octet,
      addressRange: cstr(40),
    });
    fc.assert(fc.property(arb, (b) => {
      const fields = {
        sequence_number: b.sequence,
        system_id: b.systemId,
        password: b.password,
        system_type: b.systemType,
        interface_version: b.interfaceVersion,
        addr_ton: b.addrTon,
        addr_npi: b.addrNpi,
        address_range: b.addressRange,
      };
      const theirs = new PDU(`bind_${b.mode}`, fields).toBuffer();
      expect(encodeBind(b)).toEqual(theirs);
      expect(decodeBind(theirs)).toEqual(b);
    }));
  });

  it("bind responses, with and without sc_interface_version, and bare on error", () => {
    for (const mode of modes) {
      const ok = new PDU(`bind_${mode}_resp`, {
        sequence_number: 5,
        system_id: "smsc",
        sc_interface_version: 0x34,
      }).toBuffer();
      expect(decodeBindResp(ok)).toEqual({
        sequence: 5,
        mode,
        status: 0,
        systemId: "smsc",
        scInterfaceVersion: 0x34,
      });
      expect(
        encodeBindResp({
          sequence: 5,
          mode,
          status: 0,
          systemId: "smsc",
          scInterfaceVersion: 0x34,
        }),
      )
        .toEqual(ok);
      const plain = encodeBindResp({ sequence: 6, mode, status: 0, systemId: "x" });
      expect(PDU.fromBuffer(plain)).toMatchObject({ command: `bind_${mode}_resp`, system_id: "x" });
      const refused = new PDU(`bind_${mode}_resp`, { sequence_number: 7, command_status: 0x0e })
        .toBuffer();
      expect(decodeBindResp(refused)).toEqual({ sequence: 7, mode, status: 0x0e, systemId: "" });
      expect(encodeBindResp({ sequence: 7, mode, status: 0x0e, systemId: "ignored" })).toEqual(
        refused,
      );
    }
  });

  it("header-only PDUs: enquire_link, unbind, their responses, generic_nack", () => {
    const pairs: [Buffer, string, Record<string, unknown>][] = [
      [encodeEnquireLink(1), "enquire_link", { sequence_number: 1 }],
      [encodeEnquireLinkResp(2), "enquire_link_resp", { sequence_number: 2 }],
      [encodeUnbind(3), "unbind", { sequence_number: 3 }],
      [encodeUnbindResp(4), "unbind_resp", { sequence_number: 4 }],
      [encodeGenericNack(0x03, 5), "generic_nack", { sequence_number: 5, command_status: 3 }],
    ];
    for (const [ours, command, fields] of pairs) {
      expect(ours).toEqual(new PDU(command, fields).toBuffer());
      expect(decodeHeader(ours)).toMatchObject({
        length: 16,
        sequence: fields.sequence_number,
        status: fields.command_status ?? 0,
      });
    }
  });

  const message = fc.record({
    sequence: fc.integer({ min: 1, max: 0x7fffffff }),
    serviceType: cstr(5),
    sourceTon: octet,
    sourceNpi: octet,
    source: cstr(20),
    destTon: octet,
    destNpi: octet,
    destination: fc.stringMatching(/^\d{1,20}$/u),
    esmClass: octet,
    protocolId: octet,
    priorityFlag: octet,
    registeredDelivery: octet,
    replaceIfPresent: octet,
    dataCoding: fc.constantFrom(0, 4, 8),
    smDefaultMsgId: octet,
    shortMessage: fc.uint8Array({ maxLength: 254 }).map((a) => Buffer.from(a)),
    userMessageReference: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    sar: fc.option(
      fc.record({
        ref: fc.integer({ min: 0, max: 0xffff }),
        total: fc.integer({ min: 1, max: 255 }),
        seq: fc.integer({ min: 1, max: 255 }),
      }),
      { nil: undefined },
    ),
    messagePayload: fc.option(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), {
      nil: undefined,
    }),
  });

  type Message = typeof message extends fc.Arbitrary<infer T> ? T : never;

  /** The package's field names for a message; TLVs in the order our encoder writes them. */
  function packageFields(m: Message): Record<string, unknown> {
    const f: Record<string, unknown> = {
      sequence_number: m.sequence,
      service_type: m.serviceType,
      source_addr_ton: m.sourceTon,
      source_addr_npi: m.sourceNpi,
      source_addr: m.source,
      dest_addr_ton: m.destTon,
      dest_addr_npi: m.destNpi,
      destination_addr: m.destination,
      esm_class: m.esmClass,
      protocol_id: m.protocolId,
      priority_flag: m.priorityFlag,
      registered_delivery: m.registeredDelivery,
      replace_if_present_flag: m.replaceIfPresent,
      data_coding: m.dataCoding,
      sm_default_msg_id: m.smDefaultMsgId,
      short_message: m.shortMessage,
    };
    if (m.userMessageReference !== undefined) f.user_message_reference = m.userMessageReference;
    if (m.sar) {
      f.sar_msg_ref_num = m.sar.ref;
      f.sar_total_segments = m.sar.total;
      f.sar_segment_seqnum = m.sar.seq;
    }
    if (m.messagePayload) f.message_payload = m.messagePayload;
    return f;
  }

  const strip = <T extends Record<string, unknown>>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

  it("submit_sm with UDH, SAR and message_payload, byte for byte (property)", () => {
    fc.assert(fc.property(message, (m) => {
      const ours = encodeSubmitSm(m);
      const theirs = new PDU("submit_sm", packageFields(m)).toBuffer();
      expect(ours).toEqual(theirs);
      const decoded = decodeSubmitSm(theirs);
      const { message: body, ...fields } = decoded;
      expect(strip(fields)).toEqual(strip({ ...m, scheduleDeliveryTime: "", validityPeriod: "" }));
      expect(body).toEqual(
        m.shortMessage.length === 0 && m.messagePayload ? m.messagePayload : m.shortMessage,
      );
    }));
  });

  it("submit_sm_resp both ways, and a missing terminator tolerated", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 0x7fffffff }),
      fc.stringMatching(/^[0-9A-Fa-f]{1,64}$/u),
      (sequence, id) => {
        const theirs = new PDU("submit_sm_resp", { sequence_number: sequence, message_id: id })
          .toBuffer();
        expect(decodeSubmitSmResp(theirs)).toEqual({ sequence, status: 0, messageId: id });
        expect(encodeSubmitSmResp(sequence, 0, id)).toEqual(theirs);
      },
    ));
    const error = new PDU("submit_sm_resp", { sequence_number: 4, command_status: 0x0b })
      .toBuffer();
    expect(decodeSubmitSmResp(error)).toEqual({ sequence: 4, status: 0x0b, messageId: "" });
    const unterminated = Buffer.concat([
      encodeHeaderOnly(0x80000004, 0, 9),
      Buffer.from("abc"),
    ]);
    unterminated.writeUInt32BE(unterminated.length, 0);
    expect(decodeSubmitSmResp(unterminated).messageId).toBe("abc");
  });

  it("deliver_sm with receipt TLVs both ways (property)", () => {
    const receipt = fc.record({
      receiptedMessageId: fc.option(fc.stringMatching(/^[0-9a-f]{1,40}$/u), { nil: undefined }),
      messageState: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
      networkErrorCode: fc.option(
        fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff })),
        { nil: undefined },
      ),
    });
    fc.assert(fc.property(message, receipt, (m, r) => {
      const fields = packageFields(m);
      if (r.receiptedMessageId !== undefined) fields.receipted_message_id = r.receiptedMessageId;
      if (r.messageState !== undefined) fields.message_state = r.messageState;
      if (r.networkErrorCode) {
        const [type, code] = r.networkErrorCode;
        fields.network_error_code = Buffer.from([type, code >> 8, code & 0xff]);
      }
      const theirs = new PDU("deliver_sm", fields).toBuffer();
      expect(encodeDeliverSmPdu({ ...m, ...r })).toEqual(theirs);
      expect(strip(decodeDeliverSm(theirs) as unknown as Record<string, unknown>)).toEqual(
        strip({ ...m, ...r, scheduleDeliveryTime: "", validityPeriod: "" }),
      );
      // And the package reads ours back to the same TLVs.
      const back = PDU.fromBuffer(encodeDeliverSmPdu({ ...m, ...r }));
      expect(back && back.receipted_message_id).toBe(r.receiptedMessageId);
      expect(back && back.message_state).toBe(r.messageState);
    }));
  });

  it("deliver_sm_resp as the package writes it", () => {
    expect(encodeDeliverSmResp(12, 0)).toEqual(
      new PDU("deliver_sm_resp", { sequence_number: 12 }).toBuffer(),
    );
    expect(encodeDeliverSmResp(13, 0x64)).toEqual(
      new PDU("deliver_sm_resp", { sequence_number: 13, command_status: 0x64 }).toBuffer(),
    );
  });

  it("refuses bodies that run past their length, whatever the PDU (property)", () => {
    fc.assert(fc.property(message, fc.integer({ min: 17, max: 60 }), (m, cut) => {
      const whole = encodeSubmitSm(m);
      fc.pre(cut < whole.length);
      const short = Buffer.from(whole.subarray(0, cut));
      short.writeUInt32BE(cut, 0);
      // Either it reads as a shorter valid PDU or it is refused; it never throws anything else.
      for (const decode of [decodeSubmitSm, decodeDeliverSm]) {
        try {
          decode(short);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedPdu);
        }
      }
    }));
  });
});
