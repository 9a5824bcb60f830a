// packages/core must stay pure: no Node built-ins and no I/O library, in code or tests, so that
// it runs unchanged on Node and Deno and never reaches a socket, a file or a database.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const FORBIDDEN =
  /(?:from|import)\s*\(?\s*["'](node:|nodemailer|smpp|web-push|postgres|drizzle-orm|hono|@electric-sql\/pglite|pino|fs|path|net|tls|http|https|crypto|child_process)(?:["'/])/u;
const GLOBALS = /\b(?:process\.\w|Deno\.\w|Date\.now\(|Math\.random\(|new Date\(\))/u;
const COMMENT = /^\s*(?:\/\/|\/\*|\*)/u;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const path of files("packages/core/src")) {
  const text = readFileSync(path, "utf8");
  text.split("\n").forEach((line, i) => {
    if (COMMENT.test(line)) return;
    if (FORBIDDEN.test(line)) problems.push(`${path}:${i + 1}: forbidden import: ${line.trim()}`);
    // The clock and randomness are passed in; tests may use them, the domain code may not.
    if (!path.endsWith(".test.ts") && GLOBALS.test(line)) {
      problems.push(`${path}:${i + 1}: clock, randomness or runtime global: ${line.trim()}`);
    }
  });
}
if (problems.length) {
  console.error(`packages/core is not pure:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("packages/core is pure");
