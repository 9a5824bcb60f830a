import { Buffer } from "node:buffer";
import fc from "fast-check";
import { gsmCoder, PDU } from "smpp";
import { describe, expect, it } from "vitest";
import { smsTextInfo } from "@sendgate/core";
import { decodeText, encodeGsm7, encodeUcs2 } from "./text.ts";

const BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION = "\f^{}\\[~]|€";
const gsmText = fc.string({ unit: fc.constantFrom(...BASIC, ...EXTENSION), maxLength: 400 });
const anyText = fc.string({ unit: "grapheme", maxLength: 200 });

describe("GSM-7", () => {
  it("encodes as the smpp package's GSM 03.38 coder does, and decodes back (property)", () => {
    fc.assert(fc.property(gsmText, (text) => {
      const ours = encodeGsm7(text)!;
      expect(ours).toEqual(gsmCoder.encode(text, 0x00));
      expect(decodeText(ours, 0)).toBe(text);
      // The package's decoder (an independent reading) agrees.
      expect(gsmCoder.decode(ours, 0x00)).toBe(text);
    }));
  });

  it("agrees with the core's smsTextInfo on which texts are GSM-7 and how many septets (property)", () => {
    fc.assert(fc.property(fc.oneof(gsmText, anyText), (text) => {
      const info = smsTextInfo(text);
      const septets = encodeGsm7(text);
      expect(septets !== null).toBe(info.encoding === "gsm7");
      if (septets) expect(septets.length).toBe(info.units);
    }));
  });

  it("writes @ as 0x00, € as ESC 0x65, and a literal ESC as a space", () => {
    expect([...encodeGsm7("@€_$")!]).toEqual([0x00, 0x1b, 0x65, 0x11, 0x02]);
    expect([...encodeGsm7("a\u001bb")!]).toEqual([0x61, 0x20, 0x62]);
    expect(encodeGsm7("Привет")).toBeNull();
  });

  it("decodes what the package's submit_sm carries with data_coding 0", () => {
    const pdu = new PDU("submit_sm", {
      destination_addr: "1",
      data_coding: 0,
      short_message: "Prix: 5€ @ [gare]",
    }).toBuffer();
    const back = PDU.fromBuffer(pdu) as PDU;
    const sm = back.short_message as { message: string };
    expect(sm.message).toBe("Prix: 5€ @ [gare]");
    expect(decodeText(encodeGsm7("Prix: 5€ @ [gare]")!, 0)).toBe(sm.message);
  });
});

describe("UCS-2", () => {
  it("is UTF-16 big-endian, as the package writes data_coding 8 (property)", () => {
    fc.assert(fc.property(anyText, (text) => {
      const ours = encodeUcs2(text);
      const theirs = new PDU("submit_sm", {
        destination_addr: "1",
        data_coding: 8,
        short_message: text,
      });
      const bytes = theirs.toBuffer();
      const parsed = PDU.fromBuffer(bytes) as PDU;
      expect((parsed.short_message as { message: string }).message).toBe(text);
      expect(decodeText(ours, 8)).toBe(text);
      expect(ours.length).toBe(text.length * 2);
      if (ours.length <= 254) {
        expect(Buffer.from(bytes.subarray(bytes.length - ours.length))).toEqual(ours);
      }
    }));
  });
});
