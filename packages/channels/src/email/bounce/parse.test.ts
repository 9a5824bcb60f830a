import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBounce } from "./parse.ts";

const CRLF = (text: string) => text.replace(/\r?\n/gu, "\r\n");

function dsn(status: string, extra = ""): string {
  return CRLF(`From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces+m1k-abcdefghijklmnop@bounce.example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

This is the mail system at host mx.example.net.

<Alice@Example.ORG>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <alice@example.org>:
    Recipient address rejected: User unknown (in reply to RCPT TO command)

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 1 Jan 2024 00:00:00 +0000

${status}
--B1
Content-Type: text/rfc822-headers

From: news@example.com
To: alice@example.org
Message-ID: <m1k.123@example.com>
X-Sendgate-Id: m1k-abcdefghijklmnop
Subject: Hello

--B1--
${extra}`);
}

describe("parseBounce: RFC 3464 reports", () => {
  it("reads the recipient fields, unfolds Diagnostic-Code and attributes the original", async () => {
    const parsed = await parseBounce(dsn(`Final-Recipient: rfc822; Alice@Example.ORG
Original-Recipient: rfc822;alice@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <alice@example.org>:
    Recipient address rejected: User unknown in virtual mailbox table
`));
    expect(parsed.kind).toBe("dsn");
    expect(parsed.recipients).toEqual([{
      recipient: "Alice@example.org",
      originalRecipient: "alice@example.org",
      action: "failed",
      status: "5.1.1",
      diagnosticCode:
        "550 5.1.1 <alice@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
      remoteMta: "mx.example.org",
      stage: "rcpt", // from the human-readable part: "in reply to RCPT TO command"
    }]);
    expect(parsed.sendgateId).toBe("m1k-abcdefghijklmnop");
    expect(parsed.originalMessageId).toBe("<m1k.123@example.com>");
    expect(parsed.verpToken).toBe("m1k-abcdefghijklmnop");
    expect(parsed.subject).toBe("Undelivered Mail Returned to Sender");
  });

  it("keeps every recipient in order, with delayed actions and a status found in the text", async () => {
    const blocks = Array.from(
      { length: 500 },
      (_, i) =>
        `Final-Recipient: rfc822; user${i}@example.org
Action: ${i % 2 ? "delayed" : "failed"}
Diagnostic-Code: smtp; 452 4.2.2 mailbox full after end of data
`,
    ).join("\n");
    const parsed = await parseBounce(dsn(blocks));
    expect(parsed.recipients).toHaveLength(500);
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "user0@example.org",
      action: "failed",
      status: "4.2.2",
      stage: "data",
    });
    expect(parsed.recipients[499]).toMatchObject({
      recipient: "user499@example.org",
      action: "delayed",
    });
  });

  it("tolerates delivery-status fields written in a text/plain part", async () => {
    const parsed = await parseBounce(CRLF(`From: postmaster@mx.example.net
To: sender@example.com
Subject: Delivery Status Notification (Failure)
Content-Type: text/plain

Final-Recipient: RFC822; bob@example.org
Action: Failed
Status: 5.2.2
Diagnostic-Code: SMTP; 552 5.2.2 Mailbox full
`));
    expect(parsed.kind).toBe("dsn");
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "bob@example.org",
      action: "failed",
      status: "5.2.2",
      diagnosticCode: "552 5.2.2 Mailbox full",
    });
  });
});

function plain(subject: string, body: string, from = "MAILER-DAEMON@mx.example.net"): string {
  return CRLF(`From: ${from}
To: bounces+m2-abcdefghijklmnop@bounce.example.com
Subject: ${subject}
Content-Type: text/plain; charset=us-ascii

${body}`);
}

describe("parseBounce: plain-text reports", () => {
  it("qmail", async () => {
    const parsed = await parseBounce(plain(
      "failure notice",
      `Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.

<carol@example.org>:
192.0.2.7 does not like recipient.
Remote host said: 550 5.1.1 <carol@example.org>... User unknown
Giving up on 192.0.2.7.

<dave@example.org>:
Sorry, I couldn't find any host named example.org. (#5.1.2)

--- Below this line is a copy of the message.

X-Sendgate-Id: m2-abcdefghijklmnop
Message-ID: <m2@example.com>
`,
    ));
    expect(parsed.kind).toBe("dsn");
    expect(parsed.recipients.map((r) => [r.recipient, r.status, r.stage])).toEqual([
      ["carol@example.org", "5.1.1", "rcpt"],
      ["dave@example.org", "5.1.2", null],
    ]);
    expect(parsed.recipients[0]!.diagnosticCode).toBe(
      "550 5.1.1 <carol@example.org>... User unknown",
    );
    expect(parsed.recipients[0]!.remoteMta).toBe("192.0.2.7");
    expect(parsed.sendgateId).toBe("m2-abcdefghijklmnop");
    expect(parsed.originalMessageId).toBe("<m2@example.com>");
  });

  it("Exim, even with its Auto-Submitted: auto-replied header", async () => {
    const raw = plain(
      "Mail delivery failed: returning message to sender",
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  erin@example.org
    SMTP error from remote mail server after RCPT TO:<erin@example.org>:
    host mx.example.org [192.0.2.9]: 550 5.1.1 No such user

------ This is a copy of the message, including all the headers. ------
`,
      "Mail Delivery System <Mailer-Daemon@mx.example.net>",
    ).replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:");
    const parsed = await parseBounce(raw);
    expect(parsed.kind).toBe("dsn");
    expect(parsed.recipients).toHaveLength(1);
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "erin@example.org",
      action: "failed",
      status: "5.1.1",
      stage: "rcpt",
      remoteMta: "mx.example.org",
    });
  });

  it("Exim delay warnings are delayed, and 'after end of data' is the data stage", async () => {
    const parsed = await parseBounce(plain(
      "Warning: message 1abcde-000001-AB delayed 24 hours",
      `This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.example.net.

  frank@example.org
    SMTP error from remote mail server after end of data:
    451 4.3.0 Temporary failure, try later

No action is required on your part. Delivery attempts will continue for
some time.
`,
    ));
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "frank@example.org",
      action: "delayed",
      status: "4.3.0",
      stage: "data",
    });
  });

  it("Postfix without DSN", async () => {
    const parsed = await parseBounce(plain(
      "Undelivered Mail Returned to Sender",
      `This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<gina@example.org> (expanded from <g@example.org>): host mx.example.org[192.0.2.3]
    said: 552 5.2.2 Mailbox full (in reply to end of DATA command)
`,
    ));
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "gina@example.org",
      status: "5.2.2",
      stage: "data",
      remoteMta: "mx.example.org",
    });
  });

  it("Sendmail, with the stage from its transcript", async () => {
    const parsed = await parseBounce(plain(
      "Returned mail: see transcript for details",
      `The original message was received at Mon, 1 Jan 2024 from localhost

   ----- The following addresses had permanent fatal errors -----
<henry@example.org>
    (reason: 550 5.1.1 <henry@example.org>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.example.org.:
>>> RCPT To:<henry@example.org>
<<< 550 5.1.1 <henry@example.org>... User unknown
550 5.1.1 henry@example.org... User unknown
`,
    ));
    expect(parsed.recipients).toHaveLength(1);
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "henry@example.org",
      status: "5.1.1",
      stage: "rcpt",
      diagnosticCode: "550 5.1.1 <henry@example.org>... User unknown",
    });
  });

  it("a reason before its address, and only the recipients after the line that lists them", async () => {
    // IMail-style "Reason: address"; an Exchange 2003-style summary of the original (its To is
    // nobody who failed) before "did not reach the following recipient(s):".
    const imail = await parseBounce(plain(
      "Undeliverable Mail",
      `Unknown user: kate@example.org\n\n\nOriginal message follows.\n\nTo: kate@example.org\nSubject: Hi\n`,
      "postmaster@example.org",
    ));
    expect(imail.recipients).toHaveLength(1);
    expect(imail.recipients[0]).toMatchObject({
      recipient: "kate@example.org",
      diagnosticCode: "Unknown user",
    });
    const exchange = await parseBounce(plain(
      "Undeliverable: Hi",
      `Your message

  To:      news@example.com
  Subject: Hi

did not reach the following recipient(s):

leo@example.org on Thu, 29 Apr 2021 16:51:51 -0500
    The recipient name is not recognized
`,
      "postmaster@example.org",
    ));
    expect(exchange.recipients.map((r) => r.recipient)).toEqual(["leo@example.org"]);
    expect(exchange.recipients[0]!.diagnosticCode).toContain("not recognized");
  });

  it("takes a DSN recipient's stage from the transcript beside it", async () => {
    const parsed = await parseBounce(
      dsn(
        "Final-Recipient: rfc822; alice@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n",
      ).replace(
        "This is the mail system at host mx.example.net.",
        ">>> MAIL From:<b@example.com>\r\n<<< 250 ok\r\n>>> DATA\r\n<<< 550 5.1.1 User unknown",
      ),
    );
    expect(parsed.recipients[0]).toMatchObject({ recipient: "alice@example.org", stage: "data" });
  });

  it("Exchange", async () => {
    const parsed = await parseBounce(plain(
      "Undeliverable: Hello",
      `Delivery has failed to these recipients or groups:

ivy@example.org
The e-mail address you entered couldn't be found.

Diagnostic information for administrators:

Generating server: ex.example.org

ivy@example.org
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Original message headers:

X-Sendgate-Id: m3-abcdefghijklmnop
`,
      "postmaster@example.org",
    ));
    expect(parsed.recipients).toHaveLength(1);
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "ivy@example.org",
      status: "5.1.1",
      diagnosticCode: "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
    });
    expect(parsed.sendgateId).toBe("m3-abcdefghijklmnop");
  });

  it("Lotus Domino", async () => {
    const parsed = await parseBounce(plain(
      "DELIVERY FAILURE: User jack (jack@example.org) not listed in Domino Directory",
      `Your message

  Subject: Hello

was not delivered to:

  jack@example.org

because:

  User jack (jack@example.org) not listed in Domino Directory
`,
      "Postmaster@example.org",
    ));
    expect(parsed.recipients.map((r) => r.recipient)).toEqual(["jack@example.org"]);
    expect(parsed.recipients[0]!.diagnosticCode).toContain("not listed in Domino Directory");
  });

  it("Yahoo", async () => {
    const parsed = await parseBounce(plain(
      "Failure Notice",
      `Sorry, we were unable to deliver your message to the following address.

<kim@example.org>:
Remote host said: 554 delivery error: dd This user doesn't have a yahoo.com account [RCPT_TO]
`,
    ));
    expect(parsed.recipients[0]).toMatchObject({ recipient: "kim@example.org", stage: "rcpt" });
    expect(parsed.recipients[0]!.diagnosticCode).toMatch(/^554 delivery error/u);
  });

  it("Gmail", async () => {
    const parsed = await parseBounce(plain(
      "Delivery Status Notification (Failure)",
      `** Address not found **

Your message wasn't delivered to leo@example.org because the address couldn't be found.

Learn more here: https://support.google.com/mail/?p=NoSuchUser

The response from the remote server was:
550 5.1.1 The email account that you tried to reach does not exist.
`,
    ));
    expect(parsed.recipients[0]).toMatchObject({
      recipient: "leo@example.org",
      status: "5.1.1",
      diagnosticCode: "550 5.1.1 The email account that you tried to reach does not exist.",
    });
  });

  it("Amazon SES plain text and generic 'addr ... reason' lines", async () => {
    const ses = await parseBounce(plain(
      "Delivery Status Notification (Failure)",
      `An error occurred while trying to deliver the mail to the following recipients:
mia@example.org
`,
    ));
    expect(ses.recipients.map((r) => r.recipient)).toEqual(["mia@example.org"]);
    const generic = await parseBounce(plain(
      "Returned mail",
      `noah@example.org ... 550 Requested action not taken: mailbox unavailable\n`,
    ));
    expect(generic.recipients[0]).toMatchObject({
      recipient: "noah@example.org",
      diagnosticCode: "550 Requested action not taken: mailbox unavailable",
    });
  });
});

describe("parseBounce: auto-replies and complaints", () => {
  it("recognizes RFC 3834 headers and responder subjects, but never for a DSN", async () => {
    const reply = (header: string, subject: string) =>
      CRLF(`From: olivia@example.org
To: news@example.com
Subject: ${subject}
${header}

I am away until Monday.
`);
    for (
      const [header, subject] of [
        ["Auto-Submitted: auto-replied", "Re: Hello"],
        ["X-Autoreply: yes", "Re: Hello"],
        ["Precedence: auto_reply", "Re: Hello"],
        ["X-Autorespond: Hello", "Re: Hello"],
        ["X-Other: 1", "Out of Office: Hello"],
        ["X-Other: 1", "Automatic reply: Hello"],
        ["X-Other: 1", "Abwesenheitsnotiz: Hello"],
        ["X-Other: 1", "Réponse automatique : Hello"],
        ["X-Other: 1", "Auto: Hello"],
        ["X-Other: 1", "AutoReply: Hello"],
      ]
    ) {
      const parsed = await parseBounce(reply(header!, subject!));
      expect(parsed.kind, `${header} / ${subject}`).toBe("autoReply");
      expect(parsed.recipients).toEqual([]);
      expect(parsed.autoReplyFrom).toBe("olivia@example.org");
    }
    const notReply = await parseBounce(reply("Auto-Submitted: auto-generated", "Re: Hello"));
    expect(notReply.kind).toBe("unknown");
    const report = await parseBounce(
      dsn("Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n").replace(
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-replied",
      ),
    );
    expect(report.kind).toBe("dsn");
  });

  it("reads RFC 5965 abuse reports", async () => {
    const parsed = await parseBounce(CRLF(`From: feedback@mail.example.net
To: fbl@example.com
Subject: Complaint about message
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <Paul@Example.NET>

--F
Content-Type: message/rfc822

From: news@example.com
To: paul@example.net
X-Sendgate-Id: m9-abcdefghijklmnop
Message-ID: <m9@example.com>

Hello
--F--
`));
    expect(parsed).toMatchObject({
      kind: "complaint",
      recipients: [],
      feedbackType: "abuse",
      complainedRecipient: "Paul@example.net",
      sendgateId: "m9-abcdefghijklmnop",
      originalMessageId: "<m9@example.com>",
    });
    // Without Original-Rcpt-To, the returned message's To.
    const noRcpt = await parseBounce(
      CRLF(`Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: message/feedback-report

Feedback-Type: fraud

--F
Content-Type: text/rfc822-headers

To: quinn@example.net

--F--
`),
    );
    expect(noRcpt).toMatchObject({
      feedbackType: "fraud",
      complainedRecipient: "quinn@example.net",
    });
  });
});

describe("parseBounce: bad input", () => {
  it("gives unknown for empty input, garbage and truncated reports", async () => {
    for (
      const raw of [
        "",
        Buffer.alloc(0),
        "\0\0\0\xff\xfe",
        Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]),
        'Content-Type: multipart/report; boundary="x"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;',
        "Subject: hi\r\n\r\nJust a letter.",
      ]
    ) {
      const parsed = await parseBounce(raw);
      expect(parsed.kind).toBe("unknown");
      expect(parsed.recipients).toEqual([]);
    }
  });

  it("never throws on random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const parsed = await parseBounce(Buffer.from(bytes));
        expect(["dsn", "autoReply", "complaint", "unknown"]).toContain(parsed.kind);
      }),
      { numRuns: 200 },
    );
  });

  it("scans only the head of a huge message", async () => {
    const raw = plain(
      "failure notice",
      `Hi. This is the qmail-send program at mx.example.net.\n\n<rose@example.org>:\nRemote host said: 550 5.1.1 no such user\n\n${
        "x".repeat(76) + "\r\n"
      }`.padEnd(20 * 1024 * 1024, "filler line\r\n"),
    );
    const started = Date.now();
    const parsed = await parseBounce(raw);
    expect(parsed.recipients.map((r) => r.recipient)).toEqual(["rose@example.org"]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("never throws on the real-world corpus", async () => {
    // ../shared/corpus/bounces/emails from the repository root.
    const root = fileURLToPath(new URL("../../../../../", import.meta.url));
    const dir = join(root, "..", "shared", "corpus", "bounces", "emails");
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const parsed = await parseBounce(readFileSync(join(dir, file)));
      expect(parsed.kind, file).toMatch(/^(?:dsn|autoReply|complaint|unknown)$/u);
    }
  }, 120_000);
});
