import { describe, expect, it } from "vitest";
import { normalizeEmail, normalizeEndpoint, normalizePhone } from "./address.ts";
import {
  normalizeRecipients,
  type PreparationContext,
  prepareRecipients,
  type RecipientInput,
} from "./preparation.ts";
import type { AddressStatus } from "./quarantine.ts";

const ctx = (over: Partial<PreparationContext> = {}): PreparationContext => ({
  addressStatus: () => null,
  alreadyInDelivery: () => false,
  targeted: 0,
  random: () => 0.5,
  ...over,
});

describe("address normalization", () => {
  it("lower-cases the email domain only", () => {
    expect(normalizeEmail(" Jane.Doe@Example.COM ")).toEqual({
      ok: true,
      address: "Jane.Doe@example.com",
    });
    expect(normalizeEmail("a@b").ok).toBe(false);
    expect(normalizeEmail("no-at-sign").ok).toBe(false);
    expect(normalizeEmail("a b@example.com").ok).toBe(false);
    expect(normalizeEmail('"a b"@example.com').ok).toBe(true);
  });

  it("writes phone numbers in E.164", () => {
    expect(normalizePhone("+33 6 12 34 56 78")).toEqual({ ok: true, address: "+33612345678" });
    expect(normalizePhone("0033 (6) 12-34-56-78")).toEqual({ ok: true, address: "+33612345678" });
    expect(normalizePhone("06 12 34 56 78", "33")).toEqual({ ok: true, address: "+33612345678" });
    expect(normalizePhone("06 12 34 56 78").ok).toBe(false);
    expect(normalizePhone("+1234").ok).toBe(false);
    expect(normalizePhone("+1555abc0001").ok).toBe(false);
  });

  it("accepts http(s) push endpoints only", () => {
    expect(normalizeEndpoint("https://push.example/sub/abc#x")).toEqual({
      ok: true,
      address: "https://push.example/sub/abc",
    });
    expect(normalizeEndpoint("ftp://x").ok).toBe(false);
    expect(normalizeEndpoint("not a url").ok).toBe(false);
  });
});

describe("preparation", () => {
  it("counts 10,000 recipients with 100 duplicates, 50 empty, 25 denylisted as 9,825 pending and 175 ignored", () => {
    const recipients: RecipientInput[] = [];
    for (let i = 0; i < 9_850; i++) {
      recipients.push({ externalId: `r${i}`, address: `user${i}@Example.com` });
    }
    for (let i = 0; i < 100; i++) {
      recipients.push({
        externalId: `d${i}`,
        address: `USER${i}@example.COM`.replace("USER", "user"),
      });
    }
    for (let i = 0; i < 50; i++) {
      recipients.push({ externalId: `e${i}`, address: i % 2 ? "" : null });
    }
    const denied = new Set(Array.from({ length: 25 }, (_, i) => `user${9_000 + i}@example.com`));
    const result = prepareRecipients(
      normalizeRecipients("email", recipients),
      ctx({ addressStatus: (a): AddressStatus | null => (denied.has(a) ? "denylisted" : null) }),
    );
    expect(result.pending).toBe(9_825);
    expect(result.ignored).toBe(175);
    expect(result.byReason).toEqual({ 10: 100, 7: 50, 8: 25 });
    expect(result.messages).toHaveLength(10_000);
    expect(result.messages.find((m) => m.externalId === "e0")).toMatchObject({
      status: "ignored",
      address: null,
      failure: { type: "hard", reason: 7 },
    });
  });

  it("finds duplicates across parts and after normalization", () => {
    const result = prepareRecipients(
      normalizeRecipients("sms", [{ externalId: "a", address: "+33 6 12 34 56 78" }, {
        externalId: "b",
        address: "0033612345678",
      }, { externalId: "c", address: "+447700900123" }]),
      ctx({ alreadyInDelivery: (a) => a === "+447700900123" }),
    );
    expect(result.messages.map((m) => [m.externalId, m.status, m.failure?.reason ?? null])).toEqual(
      [
        ["a", "pending", null],
        ["b", "ignored", 10],
        ["c", "ignored", 10],
      ],
    );
  });

  it("excludes quarantined addresses (9) and keeps erroneous and allowlisted ones", () => {
    const status: Record<string, AddressStatus> = {
      "q@example.com": "quarantined",
      "e@example.com": "erroneous",
      "w@example.com": "allowlisted",
    };
    const result = prepareRecipients(
      normalizeRecipients(
        "email",
        Object.keys(status).map((address) => ({ externalId: address, address })),
      ),
      ctx({ addressStatus: (a) => status[a] }),
    );
    expect(result.byReason).toEqual({ 9: 1 });
    expect(result.pending).toBe(2);
  });

  it("reports invalid addresses apart, without making them messages", () => {
    const result = prepareRecipients(
      normalizeRecipients("email", [{ externalId: "x", address: "nope" }]),
      ctx(),
    );
    expect(result.messages).toEqual([]);
    expect(result.invalid).toEqual([{
      index: 0,
      externalId: "x",
      address: "nope",
      error: "an email address needs local@domain",
    }]);
  });

  it("limits the target size (17) counting earlier parts", () => {
    const recipients = Array.from(
      { length: 5 },
      (_, i) => ({ externalId: `${i}`, address: `u${i}@example.com` }),
    );
    const result = prepareRecipients(
      normalizeRecipients("email", recipients),
      ctx({ targeted: 3, maxTargetSize: 5 }),
    );
    expect(result.pending).toBe(2);
    expect(result.byReason).toEqual({ 17: 3 });
  });

  it("sets a control group aside (127), by list or by ratio", () => {
    const recipients = Array.from(
      { length: 1000 },
      (_, i) => ({ externalId: `${i}`, address: `u${i}@example.com` }),
    );
    const byList = prepareRecipients(
      normalizeRecipients("email", recipients),
      ctx({ controlGroup: { externalIds: new Set(["1", "2"]) } }),
    );
    expect(byList.byReason).toEqual({ 127: 2 });
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const byRatio = prepareRecipients(
      normalizeRecipients("email", recipients),
      ctx({ controlGroup: { ratio: 0.1 }, random }),
    );
    expect(byRatio.byReason[127]).toBeGreaterThan(60);
    expect(byRatio.byReason[127]).toBeLessThan(140);
  });
});
