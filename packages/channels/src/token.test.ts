import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { messageToken, parseMessageToken } from "./token.ts";

describe("message tokens", () => {
  it("round-trips every id and survives case folding", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        const token = messageToken(id, "s3cret");
        expect(token).toMatch(/^m[0-9a-z]+-[a-z2-7]{16}$/u);
        expect(parseMessageToken(token, "s3cret")).toBe(id);
        expect(parseMessageToken(token.toUpperCase(), "s3cret")).toBe(id);
      }),
    );
  });

  it("refuses a token for another id, another secret, or garbage", () => {
    const token = messageToken(42, "s3cret");
    const forged = token.replace(/^m[0-9a-z]+/u, "m" + (43).toString(36));
    expect(parseMessageToken(forged, "s3cret")).toBeNull();
    expect(parseMessageToken(token, "other")).toBeNull();
    for (const bad of ["", "m-", "x1-aaaaaaaaaaaaaaaa", "m0-aaaaaaaaaaaaaaaa", `${token}x`]) {
      expect(parseMessageToken(bad, "s3cret"), bad).toBeNull();
    }
  });
});
