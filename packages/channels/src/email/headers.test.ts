import { describe, expect, it } from "vitest";
import { customHeaderProblem } from "./headers.ts";

describe("customHeaderProblem", () => {
  it("accepts a caller's own headers", () => {
    for (const name of ["X-Campaign", "X-A", "List-Id", "Keywords", "Organization"]) {
      expect(customHeaderProblem(name), name).toBeNull();
    }
  });

  it("refuses names the gateway owns, in any case", () => {
    for (
      const name of [
        "From",
        "to",
        "BCC",
        "Cc",
        "Return-Path",
        "Message-ID",
        "Date",
        "MIME-Version",
        "Content-Type",
        "content-transfer-encoding",
        "DKIM-Signature",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "X-Sendgate-Id",
        "Resent-To",
      ]
    ) {
      expect(customHeaderProblem(name), name).toMatch(/written by the gateway/u);
    }
  });

  it("refuses what is not a field name", () => {
    for (const name of ["", "X A", "X:A", "X-A\r\nBcc", "É", "x".repeat(77)]) {
      expect(customHeaderProblem(name), JSON.stringify(name)).toMatch(/not a header field name/u);
    }
  });
});
