import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { normalize } from "./normalize.ts";

describe("normalize", () => {
  it("gives the DOMAIN §6 example", () => {
    expect(
      normalize("550 5.1.1 <jane.doe@example.com>: user unknown (id 8A3F21, 2026-11-02 10:14:03)"),
    )
      .toBe("550 5.1.1 <*>: user unknown (id #xxx#, #xxx#)");
  });

  it.each([
    [
      "550-5.1.1 The email account that you tried to reach does not exist. abc123 - gsmtp",
      "550-5.1.1 The email account that you tried to reach does not exist. #xxx# - gsmtp",
    ],
    [
      "host mx.example.com[192.0.2.1] said: 550 5.7.26 unauthenticated email",
      "host mx.example.com[#xxx#] said: 550 5.7.26 unauthenticated email",
    ],
    [
      "452 4.2.2 Mailbox full, retry in 15 minutes",
      "452 4.2.2 Mailbox full, retry in #xxx# minutes",
    ],
    ["Message to +33 6 12 34 56 78 failed", "Message to #xxx# failed"],
    ["421 Try again at 10:14 UTC", "421 Try again at #xxx#"],
    ["delivery failed on 22.11.2026", "delivery failed on #xxx#"],
    ["user unknown", "user unknown"],
    ["queue id 4F7A2C1B3D: rejected", "queue id #xxx#: rejected"],
  ])("%s", (input, expected) => {
    expect(normalize(input)).toBe(expected);
  });

  it("keeps reply codes only where they are codes", () => {
    expect(normalize("550 5.1.1 relay on port 587 refused")).toBe(
      "550 5.1.1 relay on port #xxx# refused",
    );
    expect(normalize("a\n421 too many connections")).toBe("a\n421 too many connections");
  });

  const text = fc.array(
    fc.oneof(
      fc.string(),
      fc.emailAddress(),
      fc.stringMatching(/^\d{1,12}$/),
      fc.constantFrom("550", "5.1.1", "550-5.1.1", " ", "\n", "<", ">", "@", "#xxx#", "*", "."),
    ),
  ).map((parts) => parts.join(" "));

  it("is idempotent", () => {
    fc.assert(
      fc.property(text, (t) => {
        const once = normalize(t);
        expect(normalize(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it("lets no email address and no run of 4+ digits survive", () => {
    fc.assert(
      fc.property(text, fc.emailAddress(), (t, address) => {
        const out = normalize(`${t} <${address}> ${t}`);
        expect(out).not.toContain(address);
        expect(out).not.toMatch(/\d{4}/u);
        expect(out).not.toMatch(/[\w.+-]@[\w-]/u);
      }),
      { numRuns: 2000 },
    );
  });
});
