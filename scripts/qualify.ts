// `npm run -s qualify -- FILE…` (or a message on standard input): parses each bounce, auto-reply
// or complaint as the gateway's bounce listener does, and qualifies every recipient with the rule
// set a fresh gateway ships with, without a database. One JSON line per recipient found, in order:
// {file, index, recipient, action, status, diagnostic, type, reason, label, rule, normalized}.
// A file in which no recipient is found prints nothing on standard output and a note on standard
// error; a file that cannot be read is an error (exit code 1) and the others are still read.
import { readFile } from "node:fs/promises";
import process from "node:process";
import { Buffer } from "node:buffer";
import { compileRules, defaultRuleSet } from "@sendgate/core";
import { parseBounce, qualifyBounce } from "@sendgate/channels";

const rules = compileRules(defaultRuleSet);
const files = process.argv.slice(2).filter((a) => a !== "--");
let failed = false;

async function stdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const out: string[] = [];
const flush = () => {
  if (out.length) process.stdout.write(out.splice(0).join(""));
};
for (const file of files.length ? files : ["-"]) {
  let raw: Buffer;
  try {
    raw = file === "-" ? await stdin() : await readFile(file);
  } catch (error) {
    console.error(`qualify: ${file}: ${(error as Error).message}`);
    failed = true;
    continue;
  }
  const parsed = await parseBounce(raw);
  const lines = qualifyBounce(rules, parsed);
  if (lines.length === 0) console.error(`qualify: ${file}: no recipient found (${parsed.kind})`);
  for (const l of lines) {
    out.push(
      JSON.stringify({
        file,
        index: l.index,
        recipient: l.recipient,
        action: l.action,
        status: l.status,
        diagnostic: l.diagnostic,
        type: l.type,
        reason: l.reason,
        label: l.label,
        rule: l.rule,
        normalized: l.normalized,
      }) + "\n",
    );
  }
  if (out.length > 500) flush();
}
flush();
process.exitCode = failed ? 1 : 0;
