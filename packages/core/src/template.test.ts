import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileTemplate, type TemplateMode } from "./template.ts";

const render = (source: string, fields: Record<string, unknown> | null, mode: TemplateMode) =>
  compileTemplate(source).render(fields as never, mode);

const modes: TemplateMode[] = ["html", "text", "line"];

describe("compileTemplate", () => {
  it("fills fields and defaults, with whitespace inside the braces", () => {
    const t = compileTemplate("Hello {{first_name}}, {{ city | somewhere }} {{x.y-z}}!");
    expect(t.fields).toEqual(["first_name", "city", "x.y-z"]);
    expect(t.render({ first_name: "Jane", city: "Lyon", "x.y-z": 3 }, "text")).toEqual({
      ok: true,
      value: "Hello Jane, Lyon 3!",
    });
    expect(t.render({ first_name: "Jane", city: null, "x.y-z": true }, "text")).toEqual({
      ok: true,
      value: "Hello Jane, somewhere true!",
    });
  });

  it("names every missing field once, in order, and counts null as missing", () => {
    const t = compileTemplate("{{b}} {{a}} {{b}} {{c|ok}} {{d}}");
    expect(t.render({ a: null, d: "" }, "text")).toEqual({ ok: false, missing: ["b", "a"] });
    expect(t.render(null, "html")).toEqual({ ok: false, missing: ["b", "a", "d"] });
    // An empty string is a value, not a missing field.
    expect(t.render({ a: "", b: "", d: "" }, "text")).toEqual({ ok: true, value: "   ok " });
  });

  it("renders numbers and booleans with String()", () => {
    expect(render("{{n}} {{f}} {{b}}", { n: 1.5, f: 0, b: false }, "text")).toEqual({
      ok: true,
      value: "1.5 0 false",
    });
  });

  it("escapes values and defaults in html mode only", () => {
    const fields = { name: `<b>"Tom" & 'Jerry'</b>` };
    expect(render("<p>{{name}}</p>", fields, "html")).toEqual({
      ok: true,
      value: "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>",
    });
    expect(render("<p>{{other|<i>you</i>}}</p>", fields, "html")).toEqual({
      ok: true,
      value: "<p>&lt;i&gt;you&lt;/i&gt;</p>",
    });
    expect(render("{{name}}", fields, "text")).toEqual({ ok: true, value: fields.name });
  });

  it("puts values on one line in line mode", () => {
    expect(render("Hi {{name}}!", { name: "Jane\r\nBcc: x@example.com\u0000\u2028\t." }, "line"))
      .toEqual({ ok: true, value: "Hi Jane Bcc: x@example.com .!" });
    expect(render("{{a|one\ntwo}}", {}, "line")).toEqual({ ok: true, value: "one two" });
    expect(render("{{a}}", { a: "x\ny" }, "text")).toEqual({ ok: true, value: "x\ny" });
  });

  it("keeps what is not a placeholder as literal text", () => {
    for (
      const literal of [
        "{{{{name}}}}",
        "{{{name}}}",
        "{{{name}}",
        "{{name}}}",
        "{{name",
        "name}}",
        "{{ two words }}",
        "{{}}",
        "{{ | default }}",
        "{{a|b{c}}",
        "{ {a} }",
        "}}{{",
      ]
    ) {
      expect(render(literal, { name: "X", a: "Y" }, "text"), literal).toEqual({
        ok: true,
        value: literal,
      });
    }
    expect(render("{{{x}}} {{x}}", { x: "1" }, "text")).toEqual({ ok: true, value: "{{{x}}} 1" });
  });

  it("does not read inherited properties as fields", () => {
    expect(render("{{constructor}}{{toString|d}}", {}, "text")).toEqual({
      ok: false,
      missing: ["constructor"],
    });
  });

  it("renders a template without braces to itself, in every mode", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }).filter((s) => !s.includes("{") && !s.includes("}")),
        fc.constantFrom(...modes),
        (source, mode) => {
          expect(compileTemplate(source).render({ a: "<&>" }, mode)).toEqual({
            ok: true,
            value: source,
          });
        },
      ),
    );
  });

  it("never lets an HTML special character of a value through in html mode", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string(), (value, fallback) => {
        const result = compileTemplate(
          `<a title="x">{{v}}</a>{{w|${fallback.replace(/[{}]/gu, "")}}}`,
        )
          .render({ v: value }, "html");
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const inner = result.value.slice('<a title="x">'.length);
        const rendered = inner.slice(0, inner.indexOf("</a>"));
        expect(rendered).not.toMatch(/[<>"']/u);
        // Every `&` starts one of the five entities we write.
        expect(rendered.replace(/&(?:amp|lt|gt|quot|#39);/gu, "")).not.toContain("&");
        expect(result.value.slice(result.value.indexOf("</a>") + 4)).not.toMatch(/[<>"']/u);
      }),
    );
  });

  it("never puts a CR or LF into a line", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("a", "b", "c"), fc.string({ unit: "binary" })),
        (fields) => {
          const result = compileTemplate("Subject {{a}}-{{b|x}}-{{c|y}}").render(fields, "line");
          if (result.ok) expect(result.value).not.toMatch(/[\r\n]/u);
          else expect(result.missing).toEqual(["a"]);
        },
      ),
    );
  });

  it("inserts any value as is in text mode", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (value) => {
        expect(compileTemplate("[{{v}}]").render({ v: value }, "text")).toEqual({
          ok: true,
          value: `[${value}]`,
        });
      }),
    );
  });
});
