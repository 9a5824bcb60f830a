import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBackends } from "./support/harness.ts";
import { baseEnv, run } from "./support/process.ts";

// `npm run bounces -- import`: reports collected elsewhere (an .eml file, an mbox, a Maildir)
// sent to a running gateway's POST /v1/email/reports, stored as the bounce listener stores them.

const report = (n: number) =>
  [
    "From: MAILER-DAEMON@mx.example.org",
    "To: bounces+m1-aaaaaaaaaaaaaaaa@bounces.gateway.test",
    `Subject: Undelivered Mail Returned to Sender ${n}`,
    "",
    "This is the mail system at host mx.example.org.",
    "",
    `<user${n}@example.org>: host mx.example.org said: 550 5.1.1 User unknown`,
    "From the desk of nobody: a body line that mboxes escape.",
    "",
  ].join("\r\n");

describeBackends("importing reports through the API", (s) => {
  let url = "";
  let close = () => {};
  const dir = mkdtempSync(join(tmpdir(), "sendgate-bounces-"));
  beforeAll(async () => {
    const server = serve({ fetch: s().app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "sends an .eml, each message of an mbox and a Maildir's, and marks the Maildir's seen",
    async () => {
      const tag = s().database.kind;
      writeFileSync(join(dir, `one-${tag}.eml`), report(1));
      writeFileSync(
        join(dir, `box-${tag}.mbox`),
        `From MAILER-DAEMON Thu Dec  3 10:00:00 2026\n${
          report(2).replace("From the desk", ">From the desk")
        }\nFrom MAILER-DAEMON Thu Dec  3 10:01:00 2026\n${report(3)}`,
      );
      const maildir = join(dir, `Maildir-${tag}`);
      for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(maildir, sub), { recursive: true });
      writeFileSync(join(maildir, "new", "1733220000.M1.host"), report(4));
      writeFileSync(join(maildir, "cur", "1733210000.M0.host:2,S"), report(5));

      const { code, output } = await run("scripts/bounces.ts", baseEnv(), [
        "import",
        "--gateway",
        url,
        "--key",
        s().operatorKey,
        join(dir, `one-${tag}.eml`),
        join(dir, `box-${tag}.mbox`),
        maildir,
      ]);
      expect(code, output).toBe(0);
      expect(output).toContain("5 sent");
      const rows = await s().database.rows<{ origin: string; source: string; raw: Uint8Array }>(
        sql`select origin, source, raw from email_reports where origin like ${`%${tag}%`} order by id`,
      );
      expect(rows.map((r) => r.origin.replace(dir, ""))).toEqual([
        `/one-${tag}.eml`,
        `/box-${tag}.mbox#1`,
        `/box-${tag}.mbox#2`,
        `/Maildir-${tag}/cur/1733210000.M0.host:2,S`,
        `/Maildir-${tag}/new/1733220000.M1.host`,
      ]);
      expect(rows.every((r) => r.source === "import")).toBe(true);
      // The mbox's escaping undone, the bytes as they were.
      expect(Buffer.from(rows[1]!.raw).toString()).toContain("\r\nFrom the desk of nobody");
      expect(readdirSync(join(maildir, "new"))).toEqual([]);
      expect(readdirSync(join(maildir, "cur"))).toContain("1733220000.M1.host:2,S");
    },
    60_000,
  );

  it("refuses what is not a message, and an instance's key", async () => {
    const post = (body: string, type: string, key = s().operatorKey) =>
      fetch(`${url}/v1/email/reports`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": type },
        body,
      });
    expect((await post(report(6), "text/plain")).status).toBe(415);
    const empty = await post("", "message/rfc822");
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ errors: [{ path: "body" }] });
    expect((await post(report(7), "message/rfc822", await s().key("importer"))).status).toBe(403);
    const ok = await post(report(8), "message/rfc822");
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ id: expect.any(Number) });
  });
});
