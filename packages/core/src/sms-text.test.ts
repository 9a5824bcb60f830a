import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { smsTextInfo } from "./sms-text.ts";

describe("SMS text", () => {
  it.each([
    ["Hello", { encoding: "gsm7", units: 5, segments: 1 }],
    ["a".repeat(160), { encoding: "gsm7", units: 160, segments: 1 }],
    ["a".repeat(161), { encoding: "gsm7", units: 161, segments: 2 }],
    ["a".repeat(306), { encoding: "gsm7", units: 306, segments: 2 }],
    ["a".repeat(307), { encoding: "gsm7", units: 307, segments: 3 }],
    ["€".repeat(80), { encoding: "gsm7", units: 160, segments: 1 }],
    ["Prix : 5 € [promo]", { encoding: "gsm7", units: 21, segments: 1 }],
    ["Привет", { encoding: "ucs2", units: 6, segments: 1 }],
    ["ç".repeat(70), { encoding: "ucs2", units: 70, segments: 1 }],
    ["ç".repeat(71), { encoding: "ucs2", units: 71, segments: 2 }],
    ["😀".repeat(35), { encoding: "ucs2", units: 70, segments: 1 }],
  ])("%s", (text, expected) => {
    expect(smsTextInfo(text)).toEqual(expected);
  });

  it("never needs fewer parts for a longer text", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(smsTextInfo(a + b).segments).toBeGreaterThanOrEqual(smsTextInfo(a).segments);
      }),
      { numRuns: 1000 },
    );
  });
});
