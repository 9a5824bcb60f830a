/**
 * A readable API reference at /docs, rendered on the server from the OpenAPI document: no
 * script, no assets from a CDN, so it works offline and behind any proxy.
 */
type Doc = {
  paths?: Record<
    string,
    Record<
      string,
      {
        summary?: string;
        description?: string;
        tags?: string[];
        parameters?: { name: string; in: string; required?: boolean; description?: string }[];
        requestBody?: { content?: Record<string, unknown> };
        responses?: Record<string, { description?: string }>;
      }
    >
  >;
};

const esc = (s: string) =>
  s.replace(/[&<>"]/gu, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

export function docsPage(doc: unknown): string {
  const { paths = {} } = doc as Doc;
  const sections: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? [])
        .map((p) =>
          `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ", required" : ""})${
            p.description ? ` — ${esc(p.description)}` : ""
          }</li>`
        )
        .join("");
      const body = op.requestBody?.content
        ? `<p>Body: ${
          Object.keys(op.requestBody.content).map((t) => `<code>${esc(t)}</code>`).join(", ")
        }</p>`
        : "";
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `<li><code>${esc(code)}</code> ${esc(r.description ?? "")}</li>`)
        .join("");
      sections.push(
        `<section><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${
          esc(path)
        }</code></h3>
<p>${esc(op.summary ?? "")}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}
${
          params
            ? `<p>Parameters:</p><ul>${params}</ul>`
            : ""
        }${body}<p>Responses:</p><ul>${responses}</ul></section>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sendgate API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ddd;padding:.5em 0}code{background:#f4f4f4;padding:0 .25em}
.m{display:inline-block;min-width:4.5em;font-size:.8em;color:#fff;padding:.1em .4em;border-radius:3px;background:#555}
.get{background:#2b7bb9}.post{background:#2f9e44}.put{background:#e67700}.patch{background:#7048e8}.delete{background:#c92a2a}</style></head>
<body><h1>Sendgate API</h1><p>Every <code>/v1</code> call needs <code>Authorization: Bearer &lt;key&gt;</code>.
Errors are <code>application/problem+json</code> (RFC 9457). Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join("\n")}</body></html>`;
}
