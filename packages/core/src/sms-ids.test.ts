import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalSmsId, receiptIdCandidates } from "./sms-ids.ts";

describe("SMSC ids", () => {
  it("drops case and leading zeros, keeping a lone zero", () => {
    expect(canonicalSmsId(" 000A1b ")).toBe("a1b");
    expect(canonicalSmsId("0000")).toBe("0");
    expect(canonicalSmsId("")).toBe("");
  });

  it("finds a hex submit id from its decimal receipt rendering, and the reverse", () => {
    expect(receiptIdCandidates("2587")).toEqual(["2587", "a1b", "9607"]);
    expect(receiptIdCandidates("0A1B")).toEqual(["a1b", "2587"]);
    expect(receiptIdCandidates("2587", "submitHexReceiptDecimal")).toEqual(["a1b"]);
    expect(receiptIdCandidates("a1b", "submitDecimalReceiptHex")).toEqual(["2587"]);
    expect(receiptIdCandidates("0002587", "same")).toEqual(["2587"]);
    expect(receiptIdCandidates("msg-7f")).toEqual(["msg-7f"]);
  });

  it("always offers the exact rendering first, and every rendering of the same number", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.nat({ max: 4 }), (n, zeros) => {
        const hex = n.toString(16);
        const dec = n.toString(10);
        const pad = "0".repeat(zeros);
        expect(receiptIdCandidates(pad + dec)).toContain(canonicalSmsId(hex));
        expect(receiptIdCandidates(pad + hex.toUpperCase())[0]).toBe(canonicalSmsId(hex));
        if (/[a-f]/u.test(hex)) expect(receiptIdCandidates(hex)).toContain(dec);
      }),
    );
  });
});
