import { describe, expect, it } from "vitest";
import { normalizeEmail, parseMailbox } from "./address.ts";

describe("parseMailbox", () => {
  it.each([
    ["news@example.com", null, "news@example.com"],
    ["News <news@Example.COM>", "News", "news@example.com"],
    ['"Doe, Jane" <jane@example.com>', "Doe, Jane", "jane@example.com"],
    ['"say \\"hi\\"" <a@example.com>', 'say "hi"', "a@example.com"],
    ["Équipe Été <ete@example.fr>", "Équipe Été", "ete@example.fr"],
    ["<bare@example.com>", null, "bare@example.com"],
  ])("%s", (raw, name, address) => {
    expect(parseMailbox(raw)).toEqual({ ok: true, name, address });
  });

  it.each([
    ["zzz", /local@domain/u],
    ["News <news@example.com>\r\nBcc: evil@example.com", /line break/u],
    ["News\n <news@example.com>", /line break/u],
    ["News <news@example.com> x", /after the address/u],
    ['"Open <news@example.com>', /not closed/u],
    ['Ja"ne <news@example.com>', /quoted whole/u],
    ["a <b <c@example.com>", /more than one/u],
    ["news@example.com>", /without its/u],
    ["News <not an address>", /invalid|local@domain/u],
    [`${"n".repeat(201)} <a@example.com>`, /longer than 200/u],
  ])("refuses %j", (raw, error) => {
    const check = parseMailbox(raw);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error).toMatch(error);
  });
});

describe("normalizeEmail", () => {
  it("never lets a control character through a quoted local part", () => {
    expect(normalizeEmail('"a b"@example.com')).toEqual({ ok: true, address: '"a b"@example.com' });
    for (
      const bad of [
        '"a\u0000"@example.com',
        '"a\r\nRCPT TO:<x@y.z>"@example.com',
        '"a\\\n"@example.com',
      ]
    ) {
      expect(normalizeEmail(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});
