import { describe, expect, it } from "vitest";
import { DAY } from "./retry.ts";
import {
  type AddressEvent,
  type AddressState,
  decideAddress,
  defaultQuarantineConfig,
  dueForRelease,
  exclusionFor,
} from "./quarantine.ts";

const fail = (
  type: "hard" | "soft" | "ignored" | "undefined",
  reason: number,
  at = 0,
): AddressEvent => ({
  kind: "failure",
  failure: { type, reason: reason as 1 },
  text: `${type} ${reason}`,
  at,
});
const replay = (
  events: AddressEvent[],
  from: AddressState | null = null,
  config = defaultQuarantineConfig,
) => events.reduce<AddressState | null>((s, e) => decideAddress(s, e, config), from);

describe("quarantine policy", () => {
  it("quarantines at once on a hard error", () => {
    expect(replay([fail("hard", 1)])).toMatchObject({
      status: "quarantined",
      errorCount: 1,
      lastReason: 1,
    });
  });

  it("counts soft errors and quarantines at the threshold (5)", () => {
    const four = replay(Array.from({ length: 4 }, (_, i) => fail("soft", 5, i)));
    expect(four).toMatchObject({
      status: "erroneous",
      errorCount: 4,
      firstErrorAt: 0,
      lastErrorAt: 3,
    });
    expect(decideAddress(four, fail("soft", 5, 9))).toMatchObject({
      status: "quarantined",
      errorCount: 5,
      statusSince: 9,
    });
  });

  it("takes the threshold from the configuration", () => {
    const config = { ...defaultQuarantineConfig, softThreshold: 2 };
    expect(replay([fail("soft", 2), fail("soft", 2)], null, config)?.status).toBe("quarantined");
  });

  it("never counts ignored or undefined errors", () => {
    expect(replay([fail("ignored", 3), fail("undefined", 0)])).toBeNull();
    const erroneous = replay([fail("soft", 2)]);
    expect(decideAddress(erroneous, fail("ignored", 6))).toBe(erroneous);
  });

  it("never quarantines on a text qualified ignore", () => {
    expect(decideAddress(null, { ...fail("hard", 1), ignoreText: true } as AddressEvent))
      .toBeNull();
  });

  it("records an allowlisted address's errors as reason 25 and keeps it allowlisted", () => {
    const allow = decideAddress(null, {
      kind: "set",
      status: "allowlisted",
      at: 0,
      comment: "seed",
    });
    const after = replay([
      fail("hard", 1),
      fail("soft", 5),
      fail("soft", 5),
      fail("soft", 5),
      fail("soft", 5),
      fail("soft", 5),
    ], allow);
    expect(after).toMatchObject({
      status: "allowlisted",
      lastReason: 25,
      errorCount: 0,
      comment: "seed",
    });
  });

  it("denylists on a complaint (reason 8)", () => {
    expect(decideAddress(null, { kind: "complaint", at: 5 })).toMatchObject({
      status: "denylisted",
      lastReason: 8,
      statusSince: 5,
    });
  });

  it("keeps a denylisted address denylisted whatever happens", () => {
    const deny = decideAddress(null, { kind: "complaint", at: 0 });
    expect(replay([fail("hard", 1), { kind: "delivered", at: 1 }], deny)?.status).toBe(
      "denylisted",
    );
  });

  it("resets an erroneous address when a message is delivered", () => {
    expect(replay([fail("soft", 5), fail("soft", 5), { kind: "delivered", at: 3 }]))
      .toMatchObject({ status: "valid", errorCount: 0 });
    expect(replay([fail("hard", 1), { kind: "delivered", at: 3 }])?.status).toBe("quarantined");
  });

  it("releases mailbox-full quarantines after 30 days, not others", () => {
    const full = replay(Array.from({ length: 5 }, () => fail("soft", 5, 10)))!;
    expect(dueForRelease(full, 10 + 30 * DAY - 1)).toBe(false);
    expect(dueForRelease(full, 10 + 30 * DAY)).toBe(true);
    expect(dueForRelease(replay([fail("hard", 1, 10)])!, 10 + 90 * DAY)).toBe(false);
    expect(decideAddress(full, { kind: "release", at: 99 })).toMatchObject({
      status: "valid",
      errorCount: 0,
      statusSince: 99,
    });
  });

  it("lets an operator set any status", () => {
    const q = replay([fail("hard", 1)]);
    expect(decideAddress(q, { kind: "set", status: "valid", at: 1, comment: "ISP outage" }))
      .toMatchObject({ status: "valid", errorCount: 0, comment: "ISP outage" });
  });

  it("maps statuses to preparation exclusions", () => {
    expect([
      exclusionFor("quarantined"),
      exclusionFor("denylisted"),
      exclusionFor("erroneous"),
      exclusionFor(null),
    ])
      .toEqual([9, 8, null, null]);
  });
});
