// `npm run bounces -- import [--gateway URL] [--key KEY] [--watch] PATH…`: sends bounces,
// auto-replies and complaints collected elsewhere to a running gateway (POST /v1/email/reports,
// an operator key), which stores and applies them as its bounce listener's. PATH is an `.eml` file
// (one message), an mbox file (split at its `From ` lines, `>From ` unescaped), a Maildir (its
// `cur/` and `new/`), or a directory of message files. `--watch` keeps watching the Maildirs
// given: each new message is sent, then moved to `cur/` (Maildir's "seen"), every 2 s.
// The gateway and key: --gateway / --key, else SENDGATE_URL / SENDGATE_API_KEY.
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";

const usage =
  "usage: npm run bounces -- import [--gateway URL] [--key KEY] [--watch] PATH…   (an .eml file, an mbox, a Maildir, a directory)";
const fail = (message: string, code = 2): never => {
  console.error(`bounces: ${message}`);
  process.exit(code);
};

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      gateway: { type: "string" },
      key: { type: "string" },
      watch: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}
const { values, positionals } = parsed!;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [command, ...paths] = positionals;
if (command !== "import" || paths.length === 0) fail(usage);
const gateway = (values.gateway ?? process.env.SENDGATE_URL ?? "").replace(/\/+$/u, "");
const key = values.key ?? process.env.SENDGATE_API_KEY ?? "";
if (!gateway) fail("--gateway URL (or SENDGATE_URL) is needed: the gateway to send them to");
if (!key) fail("--key KEY (or SENDGATE_API_KEY) is needed: an operator key of that gateway");

/** The messages of an mbox: split before each `From ` line that starts one. */
function splitMbox(text: string): string[] {
  const lines = text.split(/\r?\n/u);
  const messages: string[][] = [];
  let current: string[] | null = null;
  lines.forEach((line, i) => {
    if (/^From \S/u.test(line) && (i === 0 || lines[i - 1] === "")) {
      current = [];
      messages.push(current);
      return;
    }
    current?.push(line.replace(/^>(>*From )/u, "$1"));
  });
  return messages.map((m) => m.join("\r\n").replace(/(?:\r\n)+$/u, "") + "\r\n")
    .filter((m) => m.trim().length > 0);
}

const isMaildir = (dir: string) =>
  existsSync(join(dir, "cur")) && existsSync(join(dir, "new")) &&
  statSync(join(dir, "new")).isDirectory();

const files = (dir: string) =>
  readdirSync(dir).filter((f) => !f.startsWith(".")).map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile()).sort();

/** Every message a path holds, with where it came from. */
function messagesOf(path: string): { origin: string; raw: Buffer; file: string | null }[] {
  if (!existsSync(path)) fail(`${path}: no such file or directory`, 1);
  if (statSync(path).isDirectory()) {
    const list = isMaildir(path)
      ? [...files(join(path, "cur")), ...files(join(path, "new"))]
      : files(path);
    return list.flatMap(messagesOf);
  }
  const raw = readFileSync(path);
  const head = raw.subarray(0, 5).toString("latin1");
  if (head === "From ") {
    return splitMbox(raw.toString("latin1")).map((m, i) => ({
      origin: `${path}#${i + 1}`,
      raw: Buffer.from(m, "latin1"),
      file: null,
    }));
  }
  return [{ origin: path, raw, file: path }];
}

let sent = 0;
let failed = 0;
async function submit(m: { origin: string; raw: Buffer }): Promise<boolean> {
  const res = await fetch(
    `${gateway}/v1/email/reports?origin=${encodeURIComponent(m.origin.slice(-500))}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "message/rfc822" },
      body: m.raw,
    },
  ).catch((error: Error) => fail(`the gateway at ${gateway} does not answer: ${error.message}`, 1));
  if (res.status === 201) {
    sent++;
    return true;
  }
  failed++;
  console.error(`bounces: ${m.origin}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  if (res.status === 401 || res.status === 403) fail("the key is refused (an operator key?)", 1);
  return false;
}

/** A Maildir's new/ messages: sent, then moved to cur/ as seen (so a watch never sends twice). */
async function drainNew(dir: string) {
  for (const file of files(join(dir, "new"))) {
    const [m] = messagesOf(file);
    if (m && await submit(m)) renameSync(file, join(dir, "cur", `${basename(file)}:2,S`));
  }
}

for (const path of paths) {
  if (existsSync(path) && statSync(path).isDirectory() && isMaildir(path)) {
    for (const file of files(join(path, "cur"))) for (const m of messagesOf(file)) await submit(m);
    await drainNew(path);
  } else {
    for (const m of messagesOf(path)) await submit(m);
  }
}
console.log(`bounces: ${sent} sent to ${gateway}, ${failed} refused`);

if (values.watch) {
  const maildirs = paths.filter((p) => existsSync(p) && statSync(p).isDirectory() && isMaildir(p));
  if (maildirs.length === 0) fail("--watch needs a Maildir (a directory with cur/ and new/)");
  console.log(`bounces: watching ${maildirs.map((d) => join(d, "new")).join(", ")} (Ctrl-C stops)`);
  let stopping = false;
  process.on("SIGINT", () => (stopping = true));
  process.on("SIGTERM", () => (stopping = true));
  while (!stopping) {
    for (const dir of maildirs) await drainNew(dir);
    await sleep(2_000);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
