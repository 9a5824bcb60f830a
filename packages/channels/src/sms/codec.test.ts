import { Buffer } from "node:buffer";
import fc from "fast-check";
import { PDU } from "smpp";
import { describe, expect, it } from "vitest";
import {
  decodeSubmitSm,
  decodeText,
  encodeDeliverSm,
  encodeSubmitSmResp,
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
