import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrate, openDatabase } from "@sendgate/db";
import { createApp } from "./app.ts";
import { docsPage, renderInline, renderMarkdown } from "./docs.ts";

/** The part of the page from one operation's heading to the next one's. */
function section(page: string, id: string): string {
  const start = page.indexOf(`<section class="op" id="${id}"`);
  expect(start, `no section ${id}`).toBeGreaterThan(-1);
  const end = page.indexOf("<section", start + 1);
  return page.slice(start, end === -1 ? undefined : end);
}

/** The field paths of a section's tables, as a reader sees them in the first column. */
const fieldPaths = (html: string) =>
  [...html.matchAll(/<td class="f"><code>([^<]*)<\/code>/gu)].map((m) => m[1]);

describe("the /docs page of the real app", () => {
  let database: Database;
  let page: string;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: "memory://" });
    await migrate(database);
    const response = await createApp({ database }).request("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/u);
    page = await response.text();
  });
  afterAll(() => database.close());

  it("shows every field of the body of POST /v1/deliveries, for each channel", () => {
    const html = section(page, "post-v1-deliveries");
    const paths = fieldPaths(html);
    for (
      const path of [
        "channel",
        "content.subject",
        "content.from",
        "content.sender",
        "content.title",
        "validitySeconds",
        "retryPolicy.steps[].intervalSeconds",
      ]
    ) {
      expect(paths).toContain(path);
    }
    // The union is shown as its variants, told apart by their channel.
    expect(html).toContain("told apart by <code>channel</code>");
    for (const channel of ["email", "sms", "push"]) {
      expect(html).toContain(`<code>channel</code> = <code>${channel}</code>`);
    }
    // Limits and defaults come with the field.
    expect(html).toMatch(/validitySeconds<\/code>.*?range 60–2592000.*?default <code>432000/su);
  });

  it("shows the parts route's recipients and its NDJSON body", () => {
    const html = section(page, "post-v1-deliveries-id-parts");
    expect(fieldPaths(html)).toContain("recipients[].externalId");
    expect(html).toContain("<code>application/x-ndjson</code>");
    expect(html).toContain("One Recipient JSON object per line");
  });

  it("lists the fields of 2xx response bodies", () => {
    const parts = fieldPaths(section(page, "post-v1-deliveries-id-parts"));
    expect(parts).toContain("rejected[].externalId");
    expect(parts).toContain("excluded[].reason");
    const list = fieldPaths(section(page, "get-v1-deliveries"));
    expect(list).toContain("items[].state");
    expect(list).toContain("nextCursor");
  });

  it("renders the code spans of descriptions, leaving no paired backtick", () => {
    const html = section(page, "post-v1-deliveries-id-parts");
    expect(html).toContain("<code>rejected</code>");
    expect(html).toContain("<code>Idempotency-Key</code>");
    // Between two tags, a pair of backticks would be a code span left unrendered.
    const texts = page.split(/<[^>]*>/u).filter((text) => /`[^`]+`/u.test(text));
    expect(texts).toEqual([]);
  });

  it("has a table of contents by tag, linking to each operation", () => {
    const nav = page.slice(page.indexOf("<nav"), page.indexOf("</nav>"));
    expect(nav).toContain('href="#tag-deliveries"');
    for (const [, id] of nav.matchAll(/href="#([^"]+)"/gu)) {
      expect(page, `no anchor ${id}`).toContain(`id="${id}"`);
    }
    expect(nav).toContain('href="#post-v1-deliveries-id-parts"');
  });

  it("is self-contained: no script and nothing loaded from elsewhere", () => {
    expect(page).not.toMatch(/<script|<link|<img|@import|src=/iu);
  });
});

describe("renderMarkdown", () => {
  it("renders code spans, bold, emphasis, links and paragraphs", () => {
    expect(
      renderMarkdown(
        "Use `a*b*c` with **care**, *now*.\n\nSee [the docs](https://example.com/a?b=1&c=2).",
      ),
    ).toBe(
      '<p>Use <code>a*b*c</code> with <strong>care</strong>, <em>now</em>.</p><p>See <a href="https://example.com/a?b=1&amp;c=2">the docs</a>.</p>',
    );
    expect(renderInline("[up](/docs) and [here](#x) and [`id`](../y)")).toBe(
      '<a href="/docs">up</a> and <a href="#x">here</a> and <a href="../y"><code>id</code></a>',
    );
  });

  it("escapes HTML, inside code spans too", () => {
    const html = renderMarkdown('<script>alert(1)</script> and `<b>"x"</b>`');
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("<code>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</code>");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<b>");
  });

  it("links only to http(s), relative and # URLs", () => {
    for (
      const text of ["[x](javascript:alert(1))", "[x](JavaScript:alert)", "[x](data:text/html,hi)"]
    ) {
      expect(renderInline(text)).not.toContain("<a");
    }
    // A quote cannot end the attribute: it was escaped before the link was made.
    expect(renderInline('[x](https://e.com/"onmouseover="alert)')).toBe(
      '<a href="https://e.com/&quot;onmouseover=&quot;alert">x</a>',
    );
  });

  it("takes no `*` of a link's URL for emphasis", () => {
    expect(renderInline("[*a*](https://e.com/*x*) *b*")).toBe(
      '<a href="https://e.com/*x*"><em>a</em></a> <em>b</em>',
    );
  });

  it("follows CommonMark's backtick runs and leaves an unpaired one as it is", () => {
    expect(renderInline("``a`b`` and `` `c` ``")).toBe("<code>a`b</code> and <code>`c`</code>");
    expect(renderInline("a lone ` backtick")).toBe("a lone ` backtick");
  });
});

describe("schema rendering", () => {
  // A tree whose nodes name their children and parent: a reference cycle through an array and
  // directly, plus a component that is nothing but a reference to itself.
  const doc = {
    openapi: "3.1.0",
    info: { title: "Trees", version: "1" },
    paths: {
      "/trees": {
        post: {
          tags: ["trees"],
          summary: "Plant a `tree`",
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } },
          },
          responses: {
            "201": {
              description: "Planted",
              content: {
                "application/json": {
                  schema: {
                    allOf: [
                      { $ref: "#/components/schemas/Node" },
                      { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
                    ],
                  },
                },
              },
            },
            "400": {
              description: "Bad <tree>",
              content: {
                "application/problem+json": { schema: { $ref: "#/components/schemas/Loop" } },
              },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Node: {
          type: "object",
          properties: {
            name: { type: "string", maxLength: 10, description: "No **markup** <here>" },
            kind: { type: ["string", "null"], enum: ["oak", "elm", null] },
            children: { type: "array", items: { $ref: "#/components/schemas/Node" } },
            parent: { $ref: "#/components/schemas/Node" },
            labels: { type: "object", additionalProperties: { type: "string" } },
          },
          required: ["name"],
          additionalProperties: false,
        },
        Loop: { $ref: "#/components/schemas/Loop" },
      },
    },
  };

  it("shows the fields once and marks the cycles instead of following them", () => {
    const page = docsPage(doc);
    const body = page.slice(page.indexOf("Request body"), page.indexOf("Responses"));
    expect(fieldPaths(body)).toEqual([
      "name",
      "kind",
      "children",
      "children[]",
      "parent",
      "labels",
    ]);
    expect(body).toContain("Recursive: the same fields as <code>Node</code> above.");
    expect(body).toContain("string | null");
    expect(body).toContain("record&lt;string, string&gt;");
    expect(body).toContain("one of <code>oak</code>, <code>elm</code>, <code>null</code>");
    expect(body).toContain("No <strong>markup</strong> &lt;here&gt;");
    expect(body).toContain("Fields not listed here are rejected.");
  });

  it("merges allOf and names the error schema, even one that only refers to itself", () => {
    const page = docsPage(doc);
    const response = page.slice(page.indexOf("Responses"));
    expect(fieldPaths(response)).toContain("id");
    expect(fieldPaths(response)).toContain("children");
    expect(page).toContain("Bad &lt;tree&gt;");
    expect(page).toContain('id="schema-loop"');
    expect(page).toContain('<p class="summary">Plant a <code>tree</code></p>');
  });

  it("stops at a bounded depth", () => {
    // Eight objects nested in one another, without any $ref.
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 8; i >= 1; i--) schema = { type: "object", properties: { [`l${i}`]: schema } };
    const page = docsPage({
      paths: {
        "/deep": {
          put: {
            requestBody: { content: { "application/json": { schema } } },
            responses: { "204": { description: "Done" } },
          },
        },
      },
    });
    const paths = fieldPaths(page);
    expect(paths).toContain("l1.l2.l3.l4.l5.l6.l7");
    expect(paths).not.toContain("l1.l2.l3.l4.l5.l6.l7.l8");
    expect(page).toContain("nested too deep to list here");
  });

  it("does not fail on a document it cannot make sense of", () => {
    const badRef = {
      paths: {
        "/x": {
          post: {
            requestBody: { content: { "application/json": { schema: { $ref: "#/c/%zz" } } } },
            responses: { "200": { $ref: "#/nowhere" } },
          },
        },
      },
    };
    for (
      const odd of [undefined, null, 42, { paths: [] }, { paths: { "/x": { get: "no" } } }, badRef]
    ) {
      expect(docsPage(odd)).toContain("</html>");
    }
  });
});
