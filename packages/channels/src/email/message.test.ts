import { createHash, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import type { OutgoingMessage } from "../channel.ts";
import { messageToken, parseMessageToken } from "../token.ts";
import { createMessageBuilder, type MessageBuilderOptions } from "./message.ts";

const SECRET = "test-secret";

const base: MessageBuilderOptions = {
  tokenSecret: SECRET,
  bounceDomain: "bounce.sendgate.example",
  bouncePrefix: "bounces",
  messageIdDomain: "mid.sendgate.example",
  unsubscribeBaseUrl: "https://u.sendgate.example/u/",
  templateCacheSize: 10,
};

let nextId = 1;
function message(over: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: nextId++,
    deliveryId: "delivery-1",
    instanceId: "instance-1",
    attempt: 1,
    externalId: "ext-1",
    address: "jane.doe@example.com",
    addressData: null,
    fields: { first: "Jane", city: `Lyon <&> "the 'best'"` },
    content: {
      from: "Équipe Été <news@sender.example>",
      replyTo: "Support <help@sender.example>",
      subject: "Hello {{first}}, news from {{ city }}",
      text: "Dear {{first}},\nnews from {{city}} and {{country|France}}.",
      html: "<p>Dear {{first}}, news from <b>{{city}}</b></p>",
      headers: { "X-Campaign": "spring-2026" },
    },
    ...over,
  };
}

/** The unfolded header fields of a raw message, in order, names as written. */
function headerFields(raw: string): [string, string][] {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  return head.split(/\r\n(?![ \t])/u).map((field) => {
    const colon = field.indexOf(":");
    return [field.slice(0, colon), field.slice(colon + 1)];
  });
}

/**
 * Verifies a DKIM-Signature (RFC 6376) with relaxed/relaxed canonicalization, as nodemailer
 * signs: the body hash, then the RSA signature over the signed headers.
 */
function verifyDkim(raw: Buffer, publicKeyPem: string) {
  const text = raw.toString("binary");
  const fields = headerFields(text);
  const signature = fields.find(([name]) => name.toLowerCase() === "dkim-signature");
  if (!signature) throw new Error("no DKIM-Signature");
  const tags = Object.fromEntries(
    signature[1].replace(/\s+/gu, "").split(";").filter(Boolean).map((t) => {
      const i = t.indexOf("=");
      return [t.slice(0, i), t.slice(i + 1)];
    }),
  ) as Record<string, string>;
  expect(tags.c).toBe("relaxed/relaxed");
  expect(tags.a).toBe("rsa-sha256");
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  const relaxedBody = body.split("\r\n").map((line) =>
    line.replace(/[ \t]+/gu, " ").replace(/ $/u, "")
  )
    .join("\r\n").replace(/(?:\r\n)*$/u, "");
  const bodyHash = createHash("sha256").update(relaxedBody ? `${relaxedBody}\r\n` : "", "binary")
    .digest("base64");
  expect(bodyHash).toBe(tags.bh);
  const relaxed = ([name, value]: [string, string]) =>
    `${name.toLowerCase()}:${value.replace(/\r\n/gu, "").replace(/[ \t]+/gu, " ").trim()}`;
  // Each name in h= takes the last unused instance of that header, bottom up (RFC 6376 §5.4.2).
  const used = new Set<number>();
  const signed = tags.h!.split(":").map((name) => {
    for (let i = fields.length - 1; i >= 0; i--) {
      if (!used.has(i) && fields[i]![0].toLowerCase() === name.toLowerCase()) {
        used.add(i);
        return `${relaxed(fields[i]!)}\r\n`;
      }
    }
    return "";
  }).join("");
  const own = relaxed(["DKIM-Signature", signature[1].replace(/b=[^;]*$/u, "b=")]);
  const valid = verify(
    "sha256",
    Buffer.from(signed + own, "binary"),
    createPublicKey(publicKeyPem),
    Buffer.from(tags.b!, "base64"),
  );
  return { valid, tags };
}

describe("createMessageBuilder", () => {
  it("builds the personalized message with the gateway's identity and tracking headers", async () => {
    const builder = createMessageBuilder(base);
    const m = message();
    const prepared = builder.prepare(m);
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    const token = messageToken(m.id, SECRET);
    expect(prepared.message.token).toBe(token);
    expect(parseMessageToken(token, SECRET)).toBe(m.id);
    expect(prepared.message.domain).toBe("example.com");
    expect(prepared.message.envelope).toEqual({
      from: `bounces+${token}@bounce.sendgate.example`,
      to: ["jane.doe@example.com"],
    });

    const raw = await prepared.message.build();
    const text = raw.toString("utf8");
    // The display name is non-ASCII: RFC 2047 encoded, never raw 8-bit in a header.
    const from = headerFields(text).find(([n]) => n === "From")![1];
    expect(from).toMatch(/=\?UTF-8\?[QB]\?/u);
    expect(text.slice(0, text.indexOf("\r\n\r\n"))).not.toMatch(/[^\t\r\n -~]/u);

    const mail = await simpleParser(raw);
    expect(mail.from?.value).toEqual([{ name: "Équipe Été", address: "news@sender.example" }]);
    expect(mail.replyTo?.value).toEqual([{ name: "Support", address: "help@sender.example" }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : null).toEqual([
      { name: "", address: "jane.doe@example.com" },
    ]);
    expect(mail.messageId).toBe(`<${token}@mid.sendgate.example>`);
    expect(mail.headers.get("x-sendgate-id")).toBe(token);
    expect(mail.headers.get("x-campaign")).toBe("spring-2026");
    expect(headerFields(text).find(([n]) => n === "List-Unsubscribe")![1].trim()).toBe(
      `<https://u.sendgate.example/u/${token}>`,
    );
    expect(headerFields(text).find(([n]) => /^List-Unsubscribe-Post$/iu.test(n))![1].trim()).toBe(
      "List-Unsubscribe=One-Click",
    );
    expect(mail.subject).toBe(`Hello Jane, news from Lyon <&> "the 'best'"`);
    expect(mail.text).toBe(`Dear Jane,\nnews from Lyon <&> "the 'best'" and France.`);
    // Every line of the message ends with CRLF: no bare LF from the template reaches SMTP.
    expect(text).not.toMatch(/[^\r]\n/u);
    expect(mail.html).toBe(
      "<p>Dear Jane, news from <b>Lyon &lt;&amp;&gt; &quot;the &#39;best&#39;&quot;</b></p>",
    );
    expect(mail.headers.has("x-mailer")).toBe(false);
    // Built once: falling back to another MX sends the same bytes.
    expect(await prepared.message.build()).toBe(raw);
  });

  it("puts a field's line breaks into the subject as spaces, never as a new header", async () => {
    const builder = createMessageBuilder(base);
    const prepared = builder.prepare(message({
      fields: { first: "Jane\r\nBcc: x@evil.example", city: "Lyon" },
    }));
    if (!prepared.ok) throw new Error("not built");
    const mail = await simpleParser(await prepared.message.build());
    expect(mail.subject).toBe("Hello Jane Bcc: x@evil.example, news from Lyon");
    expect(mail.bcc).toBeUndefined();
  });

  it("leaves List-Unsubscribe out when no unsubscribe URL is configured", async () => {
    const builder = createMessageBuilder({ ...base, unsubscribeBaseUrl: undefined });
    const prepared = builder.prepare(message());
    if (!prepared.ok) throw new Error("not built");
    const mail = await simpleParser(await prepared.message.build());
    expect(mail.headers.has("list-unsubscribe")).toBe(false);
    expect(mail.headers.has("list-unsubscribe-post")).toBe(false);
  });

  it("answers invalid personalization with every missing field, and builds nothing", () => {
    const builder = createMessageBuilder(base);
    expect(builder.prepare(message({ fields: { city: null } }))).toEqual({
      ok: false,
      outcome: {
        kind: "invalid",
        problem: "personalization",
        detail: "missing personalization fields: first, city",
      },
    });
    expect(builder.prepare(message({ fields: null })).ok).toBe(false);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["a header the gateway owns", { headers: { Bcc: "x@evil.example" } }, /headers\.Bcc/u],
    [
      "a header value with a line break",
      { headers: { "X-A": "a\r\nBcc: x@e.example" } },
      /line break/u,
    ],
    ["a bad From", { from: "not an address" }, /^from:/u],
    ["no subject", { subject: undefined }, /subject/u],
    ["no body", { text: undefined, html: undefined }, /text or html/u],
  ])("refuses content with %s", (_what, change, detail) => {
    const builder = createMessageBuilder(base);
    const m = message();
    const prepared = builder.prepare({
      ...m,
      deliveryId: `bad-${nextId}`,
      content: { ...m.content, ...change },
    });
    expect(prepared.ok).toBe(false);
    if (prepared.ok) return;
    expect(prepared.outcome).toMatchObject({ kind: "invalid", problem: "content" });
    expect((prepared.outcome as { detail: string }).detail).toMatch(detail);
  });

  it("compiles a delivery's templates once and notices a changed content", () => {
    const builder = createMessageBuilder(base);
    const a = builder.prepare(message({ deliveryId: "d-x" }));
    const b = builder.prepare(message({
      deliveryId: "d-x",
      content: { ...message().content, subject: "Other {{missing}}" },
    }));
    expect(a.ok).toBe(true);
    expect(b).toMatchObject({
      ok: false,
      outcome: { detail: "missing personalization fields: missing" },
    });
  });

  it("signs with DKIM for the From domain, verifiably", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const asked: string[] = [];
    const builder = createMessageBuilder({
      ...base,
      dkim: (domain) => {
        asked.push(domain);
        return domain === "sender.example"
          ? { domainName: "sender.example", keySelector: "sg2026", privateKey }
          : null;
      },
    });
    const prepared = builder.prepare(message());
    if (!prepared.ok) throw new Error("not built");
    const raw = await prepared.message.build();
    const { valid, tags } = verifyDkim(raw, publicKey);
    expect(tags.d).toBe("sender.example");
    expect(tags.s).toBe("sg2026");
    expect(tags.h!.toLowerCase().split(":")).toEqual(
      expect.arrayContaining(["from", "subject", "to", "message-id"]),
    );
    expect(valid).toBe(true);
    expect(asked).toEqual(["sender.example"]);

    // A tampered body no longer matches its hash.
    const tampered = Buffer.from(
      raw.toString("binary").replace("Dear Jane", "Dear Joan"),
      "binary",
    );
    expect(() => verifyDkim(tampered, publicKey)).toThrow();

    // Another From domain: no key, no signature.
    const other = builder.prepare(message({
      deliveryId: "d-other",
      content: { ...message().content, from: "news@other.example" },
    }));
    if (!other.ok) throw new Error("not built");
    expect((await other.message.build()).toString()).not.toMatch(/^DKIM-Signature:/imu);
  });
});
