import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatReceipt,
  isReceiptEsmClass,
  parseReceipt,
  parseReceiptDate,
  receiptDate,
  sameMessageId,
} from "./receipt.ts";

const submitDate = new Date(Date.UTC(2024, 0, 31, 12, 5));
const doneDate = new Date(Date.UTC(2024, 1, 1, 8, 30));

describe("formatReceipt", () => {
  it("writes the canonical text", () => {
    expect(
      formatReceipt({
        id: "1a2b3c",
        submitDate,
        doneDate,
        stat: "DELIVRD",
        err: "000",
        text: "Your code is 123456 - do not share",
      }),
    )
      .toBe(
        "id:1a2b3c sub:001 dlvrd:001 submit date:2401311205 done date:2402010830 stat:DELIVRD err:000 text:Your code is 123456 ",
      );
  });

  it("says dlvrd:000 for anything but DELIVRD and keeps only GSM-safe characters of the text", () => {
    const text = formatReceipt({
      id: "42",
      submitDate,
      doneDate,
      stat: "UNDELIV",
      err: "001",
      text: "user@example_x $5",
    });
    expect(text).toContain("dlvrd:000");
    expect(text).toContain("stat:UNDELIV err:001 text:user?example?x ?5");
  });
});

describe("parseReceipt", () => {
  it("reads the canonical text back", () => {
    const r = parseReceipt(
      "id:1a2b3c sub:001 dlvrd:001 submit date:2401311205 done date:2402010830 stat:DELIVRD err:000 text:Hello",
    );
    expect(r).toEqual({
      id: "1a2b3c",
      stat: "DELIVRD",
      err: "000",
      final: true,
      sub: 1,
      dlvrd: 1,
      submitDate,
      doneDate,
      text: "Hello",
    });
  });

  it("tolerates field order, key case, underscores, seconds in dates and a missing text", () => {
    const r = parseReceipt(
      "Stat:UNDELIV ERR:027 ID:0000123 Done_Date:240201083015 Submit_date:2401311205 Sub:1 Dlvrd:0",
    );
    expect(r).toMatchObject({
      id: "0000123",
      stat: "UNDELIV",
      err: "027",
      final: true,
      sub: 1,
      dlvrd: 0,
    });
    expect(r?.doneDate).toEqual(new Date(Date.UTC(2024, 1, 1, 8, 30, 15)));
    expect(r?.text).toBeUndefined();
  });

  it("maps long stat words to the canonical seven letters and flags intermediate states", () => {
    expect(parseReceipt("id:1 stat:DELIVERED err:0")?.stat).toBe("DELIVRD");
    expect(parseReceipt("id:1 stat:undeliverable err:1")?.stat).toBe("UNDELIV");
    expect(parseReceipt("id:1 stat:REJECTED")?.stat).toBe("REJECTD");
    for (const stat of ["ENROUTE", "ACCEPTD", "accepted", "SCHEDLD", "BUFFRED"]) {
      expect(parseReceipt(`id:1 stat:${stat}`)?.final).toBe(false);
    }
    expect(parseReceipt("id:1 stat:EXPIRED")?.final).toBe(true);
  });

  it("keeps colons and key-like words inside the text without letting them forge fields", () => {
    const r = parseReceipt(
      "id:9 sub:001 dlvrd:000 submit date:2401311205 done date:2401311206 stat:REJECTD err:000 text:stat:DELIVRD id:1 at 10:30",
    );
    expect(r).toMatchObject({ id: "9", stat: "REJECTD", text: "stat:DELIVRD id:1 at 10:30" });
  });

  it("takes a field an SMSC put after the text", () => {
    expect(parseReceipt("id:77 text:hello there stat:DELIVRD err:000")).toMatchObject({
      id: "77",
      stat: "DELIVRD",
      text: "hello there",
    });
  });

  it("prefers the TLVs and works from them alone", () => {
    expect(parseReceipt("", { receipted_message_id: "abc", message_state: 5 })).toMatchObject({
      id: "abc",
      stat: "UNDELIV",
      err: "000",
      messageState: 5,
    });
    const both = parseReceipt("id:6699 stat:DELIVRD err:000", { receipted_message_id: "1a2b" });
    expect(both).toMatchObject({ id: "1a2b", textId: "6699" });
    expect(sameMessageId(both!.id, both!.textId!)).toBe(true);
  });

  it("says null when it is not a receipt", () => {
    expect(parseReceipt("Hello, see you at 10:30")).toBeNull();
    expect(parseReceipt("id:12 sub:001")).toBeNull();
    expect(parseReceipt(undefined)).toBeNull();
  });

  it("round-trips whatever the builder writes (property)", () => {
    const stats = [
      "DELIVRD",
      "UNDELIV",
      "EXPIRED",
      "REJECTD",
      "DELETED",
      "UNKNOWN",
      "ENROUTE",
      "ACCEPTD",
    ];
    const minute = fc.integer({
      min: Date.UTC(2000, 0, 1) / 60_000,
      max: Date.UTC(2099, 11, 31) / 60_000,
    })
      .map((m) => new Date(m * 60_000));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n) => n.toString(16)),
          fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
        ),
        fc.constantFrom(...stats),
        fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")),
        minute,
        minute,
        fc.string({ maxLength: 40 }),
        (id, stat, err, submitDate, doneDate, text) => {
          const r = parseReceipt(formatReceipt({ id, stat, err, submitDate, doneDate, text }));
          expect(r).not.toBeNull();
          expect(r!.id).toBe(id);
          expect(r!.stat).toBe(stat);
          expect(r!.err).toBe(err);
          expect(r!.submitDate).toEqual(submitDate);
          expect(r!.doneDate).toEqual(doneDate);
          expect(r!.final).toBe(stat !== "ENROUTE" && stat !== "ACCEPTD");
          // The excerpt: 20 characters at most, GSM-unsafe ones as '?', trailing blanks trimmed.
          expect(r!.text).toBe(
            text.slice(0, 20).replace(/[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/gu, "?").trimEnd(),
          );
        },
      ),
    );
  });

  it("never throws, whatever the text (property)", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (text, state) => {
          parseReceipt(text, { message_state: state });
        },
      ),
    );
  });
});

describe("dates and ids", () => {
  it("formats and parses YYMMDDhhmm in UTC, refusing impossible values", () => {
    expect(receiptDate(doneDate)).toBe("2402010830");
    expect(parseReceiptDate("2402010830")).toEqual(doneDate);
    expect(parseReceiptDate("2413010830")).toBeUndefined();
    expect(parseReceiptDate("24020108")).toBeUndefined();
  });

  it("matches ids across case, leading zeros and hex/decimal", () => {
    expect(sameMessageId("1A2B", "1a2b")).toBe(true);
    expect(sameMessageId("0001a2b", "1a2b")).toBe(true);
    expect(sameMessageId("1a2b", "6699")).toBe(true);
    expect(sameMessageId("6699", "1A2B")).toBe(true);
    expect(sameMessageId("1a2b", "1a2c")).toBe(false);
    expect(sameMessageId("6699", "6698")).toBe(false);
  });

  it("knows which esm_class carries a receipt", () => {
    expect(isReceiptEsmClass(0x04)).toBe(true);
    expect(isReceiptEsmClass(0x20)).toBe(true);
    expect(isReceiptEsmClass(0x44)).toBe(true);
    expect(isReceiptEsmClass(0x00)).toBe(false);
    expect(isReceiptEsmClass(0x40)).toBe(false);
  });
});
