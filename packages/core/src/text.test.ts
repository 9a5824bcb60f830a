import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { jsonTextIssues, textProblem } from "./text.ts";

describe("textProblem", () => {
  it("refuses what PostgreSQL cannot store, whatever the kind", () => {
    for (const kind of ["text", "line", "token"] as const) {
      expect(textProblem("a\u0000b", kind)).toMatch(/NUL/u);
      expect(textProblem("a\ud800b", kind)).toMatch(/surrogate/u);
      expect(textProblem("b\udc00", kind)).toMatch(/surrogate/u);
      expect(textProblem("ok 😀 é 中", kind)).toBeNull();
    }
  });

  it("lets free text have line breaks and tabs, and nothing else of that kind in a line", () => {
    expect(textProblem("one\r\ntwo\tthree", "text")).toBeNull();
    expect(textProblem("v\r\nBcc: evil@example.com", "line")).toMatch(/line break/u);
    expect(textProblem("a\nb", "line")).toMatch(/line break/u);
    expect(textProblem("a\tb", "line")).toBeNull();
    expect(textProblem("a\u0007b", "line")).toBe("contains a control character (U+0007)");
    expect(textProblem("a\u007fb", "line")).toMatch(/U\+007F/u);
    // C1 controls are printable enough for a subject (they are encoded on output), not for an id.
    expect(textProblem("a\u0085b", "line")).toBeNull();
    expect(textProblem("a\u0085b", "token")).toMatch(/U\+0085/u);
    expect(textProblem("a\tb", "token")).toMatch(/U\+0009/u);
  });

  it("accepts every well-formed string without controls, as every kind", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        // deno-lint-ignore no-control-regex
        const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/gu, "");
        expect(textProblem(clean, "token")).toBeNull();
      }),
    );
  });
});

describe("jsonTextIssues", () => {
  it("names the path of every bad string and key", () => {
    expect(jsonTextIssues({ a: ["ok", "x\u0000"], "k\u0000": 1, b: { c: "\ud800" } })).toEqual([
      { path: ["a", 1], message: "contains a NUL character (U+0000)" },
      { path: ["k\u0000"], message: "field name contains a NUL character (U+0000)" },
      { path: ["b", "c"], message: "contains a lone UTF-16 surrogate (not valid Unicode)" },
    ]);
  });

  it("bounds nesting without recursing into it", () => {
    const deep = JSON.parse(`${"[".repeat(5_000)}${"]".repeat(5_000)}`);
    const issues = jsonTextIssues({ data: deep }, { maxDepth: 8 });
    expect(issues).toEqual([{
      path: ["data", 0, 0, 0, 0, 0, 0, 0],
      message: "nested deeper than 8 levels",
    }]);
    expect(jsonTextIssues({ a: { b: 1 } }, { maxDepth: 2 })).toEqual([]);
  });

  it("stops after a bounded number of issues", () => {
    const many = Array.from({ length: 1_000 }, () => "\u0000");
    expect(jsonTextIssues(many, { limit: 5 })).toHaveLength(5);
  });
});
