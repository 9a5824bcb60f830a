import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import MailComposer from "nodemailer/lib/mail-composer";
import type Mail from "nodemailer/lib/mailer";
import { serializeMime } from "./compose.ts";

// Text that exercises every encoding nodemailer picks: ASCII (7bit), long lines (quoted-printable),
// accents and other scripts (quoted-printable or base64), trailing whitespace, bare CR and LF.
const piece = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "Hello",
    "Été à Lyon",
    "日本語のテキスト",
    "emoji 🎉",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "=",
    ".",
    "x".repeat(90),
    "<p>a &amp; b</p>",
  ),
);
const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(""));
const name = fc.oneof(fc.constant(""), fc.constantFrom("Équipe Été", "Bench", 'A "quoted" name'));

const mail = fc.record({
  fromName: name,
  subject: text,
  text: fc.option(text, { nil: undefined }),
  html: fc.option(text, { nil: undefined }),
  replyTo: fc.boolean(),
  header: fc.option(fc.string({ maxLength: 30 }).map((v) => v.replace(/[\r\n]/gu, "")), {
    nil: undefined,
  }),
}).filter((m) => m.text !== undefined || m.html !== undefined);

type Generated = typeof mail extends fc.Arbitrary<infer T> ? T : never;

/** The options the email channel gives MailComposer, with a fixed date so two trees agree. */
function options(m: Generated): Mail.Options {
  return {
    from: { name: m.fromName, address: "news@sender.example" },
    ...(m.replyTo ? { replyTo: { name: "Support", address: "help@sender.example" } } : {}),
    to: { name: "", address: "jane.doe@example.com" },
    subject: m.subject,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.html !== undefined ? { html: m.html } : {}),
    messageId: "<token@mid.sendgate.example>",
    date: new Date("2026-12-03T10:00:00Z"),
    headers: [
      { key: "X-Sendgate-Id", value: { prepared: true, value: "token" } as unknown as string },
      ...(m.header !== undefined ? [{ key: "X-Campaign", value: m.header }] : []),
    ],
    envelope: { from: "bounces+token@bounce.example", to: ["jane.doe@example.com"] },
    disableFileAccess: true,
    disableUrlAccess: true,
    baseBoundary: "token",
  };
}

describe("serializeMime", () => {
  it("writes the bytes nodemailer's build() writes", async () => {
    await fc.assert(
      fc.asyncProperty(mail, async (m) => {
        const streamed = await new MailComposer(options(m)).compile().build();
        const serialized = serializeMime(new MailComposer(options(m)).compile());
        expect(serialized?.toString("latin1")).toBe(streamed.toString("latin1"));
      }),
      { numRuns: 300 },
    );
  });

  it("leaves to build() what it does not write itself: streams, post-processing", () => {
    const streamed = new MailComposer({
      from: "a@example.com",
      subject: "s",
      text: Readable.from([Buffer.from("from a stream")]),
    }).compile();
    expect(serializeMime(streamed)).toBeNull();
    const signed = new MailComposer({ from: "a@example.com", subject: "s", text: "t" }).compile();
    signed.processFunc((input) => input);
    expect(serializeMime(signed)).toBeNull();
  });
});
