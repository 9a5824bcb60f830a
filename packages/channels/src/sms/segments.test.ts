import { Buffer } from "node:buffer";
import fc from "fast-check";
import { PDU } from "smpp";
import { describe, expect, it } from "vitest";
import { smsTextInfo } from "@sendgate/core";
import { decodeSubmitSm, encodeSubmitSm } from "./codec.ts";
import { partInfo, udhLength } from "./concat.ts";
import { segmentText } from "./segments.ts";
import { decodeText } from "./text.ts";

const BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION = "\f^{}\\[~]|€";
const gsmText = fc.string({ unit: fc.constantFrom(...BASIC, ...EXTENSION), maxLength: 1600 });
const ucsText = fc.string({
  unit: fc.constantFrom("é", "ж", "😀", "a", "€", "中"),
  maxLength: 700,
});

/** What an SMSC reassembles from the parts: the text, read through the codec like the simulator. */
function reassemble(parts: ReturnType<typeof segmentText>["parts"]): string {
  return parts.map((p) => {
    const sm = decodeSubmitSm(
      encodeSubmitSm({ sequence: 1, destination: "15550000000", ...p }),
    );
    return decodeText(sm.message.subarray(udhLength(sm)), sm.dataCoding);
  }).join("");
}

describe("segmentText", () => {
  it("one part when the text fits, data_coding 0 for GSM-7 and 8 for UCS-2", () => {
    const gsm = segmentText("Code 1234 @ 5€", { reference: 1 });
    expect(gsm.encoding).toBe("gsm7");
    expect(gsm.parts).toHaveLength(1);
    expect(gsm.parts[0]).toMatchObject({ esmClass: 0, dataCoding: 0, registeredDelivery: 1 });
    const ucs = segmentText("Привет", { reference: 1 });
    expect(ucs.parts[0]).toMatchObject({ dataCoding: 8, esmClass: 0 });
    expect(segmentText("x".repeat(160), { reference: 1 }).parts).toHaveLength(1);
    expect(segmentText("x".repeat(161), { reference: 1 }).parts).toHaveLength(2);
    expect(segmentText("ж".repeat(70), { reference: 1 }).parts).toHaveLength(1);
    expect(segmentText("ж".repeat(71), { reference: 1 }).parts).toHaveLength(2);
  });

  it("UDH parts: 153 septets or 67 units, 8-bit reference, esm_class 0x40 (property)", () => {
    fc.assert(fc.property(fc.oneof(gsmText, ucsText), fc.integer({ min: 0, max: 0xffff }), (
      text,
      reference,
    ) => {
      const s = segmentText(text, { reference });
      const info = smsTextInfo(text);
      expect(s.encoding).toBe(info.encoding);
      expect(reassemble(s.parts)).toBe(text);
      if (s.parts.length === 1) return;
      // Never more than one part over the core's count (an escape or a surrogate pair kept whole).
      expect(s.parts.length - info.segments).toBeGreaterThanOrEqual(0);
      expect(s.parts.length - info.segments).toBeLessThanOrEqual(1);
      s.parts.forEach((p, i) => {
        expect(p.esmClass).toBe(0x40);
        const sm = decodeSubmitSm(encodeSubmitSm({ sequence: 1, destination: "1", ...p }));
        expect(partInfo(sm)).toEqual({
          how: "udh8",
          ref: reference & 0xff,
          total: s.parts.length,
          seq: i + 1,
        });
        const body = p.shortMessage.length - 6;
        expect(body).toBeLessThanOrEqual(info.encoding === "gsm7" ? 153 : 134);
        // The package reads our UDH the same way.
        const theirs = PDU.fromBuffer(
          encodeSubmitSm({ sequence: 1, destination: "1", ...p }),
        ) as PDU;
        const udh = (theirs.short_message as { udh: Buffer[] }).udh;
        expect([...udh[0]!]).toEqual([0x00, 0x03, reference & 0xff, s.parts.length, i + 1]);
      });
    }));
  });

  it("never splits an escape sequence or a surrogate pair", () => {
    const euroText = "x".repeat(152) + "€" + "y".repeat(10);
    const euros = segmentText(euroText, { reference: 7 });
    expect(euros.parts[0]!.shortMessage.length - 6).toBe(152);
    expect(reassemble(euros.parts)).toBe(euroText);
    const emojiText = "a".repeat(66) + "😀" + "b".repeat(10);
    const emoji = segmentText(emojiText, { reference: 7 });
    expect(emoji.parts[0]!.shortMessage.length - 6).toBe(132);
    expect(reassemble(emoji.parts)).toBe(emojiText);
  });

  it("SAR parts carry the TLVs and no UDH; payload is one submit_sm", () => {
    const text = "y".repeat(400);
    const sar = segmentText(text, { mode: "sar", reference: 0x1234 });
    expect(sar.parts).toHaveLength(3);
    sar.parts.forEach((p, i) => {
      expect(p).toMatchObject({ esmClass: 0, sar: { ref: 0x1234, total: 3, seq: i + 1 } });
      const theirs = PDU.fromBuffer(encodeSubmitSm({ sequence: 1, destination: "1", ...p })) as PDU;
      expect(theirs).toMatchObject({
        sar_msg_ref_num: 0x1234,
        sar_total_segments: 3,
        sar_segment_seqnum: i + 1,
      });
    });
    expect(reassemble(sar.parts)).toBe(text);
    const payload = segmentText(text, { mode: "payload", reference: 1 });
    expect(payload.parts).toHaveLength(1);
    expect(payload.parts[0]!.shortMessage.length).toBe(0);
    expect(decodeText(payload.parts[0]!.messagePayload!, 0)).toBe(text);
    expect(reassemble(payload.parts)).toBe(text);
  });

  it("asks for one receipt per message, on the first part or the last", () => {
    const text = "z".repeat(500);
    const first = segmentText(text, { reference: 1 });
    expect(first.parts.map((p) => p.registeredDelivery)).toEqual([1, 0, 0, 0]);
    expect(first.receiptPart).toBe(0);
    const last = segmentText(text, { reference: 1, receiptOn: "last" });
    expect(last.parts.map((p) => p.registeredDelivery)).toEqual([0, 0, 0, 1]);
    expect(last.receiptPart).toBe(3);
    const none = segmentText(text, { reference: 1, receipt: false });
    expect(none.parts.every((p) => p.registeredDelivery === 0)).toBe(true);
  });

  it("refuses more than 255 parts", () => {
    expect(() => segmentText("x".repeat(153 * 256), { reference: 1 })).toThrow(RangeError);
  });
});
