import type { Buffer } from "node:buffer";
import { createPrivateKey, type KeyObject } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import DKIM from "nodemailer/lib/dkim";
import type { MimeNodeHeader } from "nodemailer/lib/mime-node";
import { emailDomain } from "@sendgate/core";
import type { OutgoingMessage, SendOutcome } from "../channel.ts";
import { messageToken } from "../token.ts";
import { serializeMime } from "./compose.ts";
import { networkOutcome } from "./outcome.ts";
import type { DkimKey } from "./config.ts";
import { createContentCache, type DeliveryContent } from "./delivery-content.ts";

/** A message ready to go: its route, its envelope, and its MIME built on demand. */
export interface PreparedMessage {
  /** The recipient's domain (routing, relay override). */
  readonly domain: string;
  readonly envelope: { from: string; to: string[] };
  readonly token: string;
  /**
   * The RFC 5322 message, DKIM-signed when the From domain signs. Built when a connection is
   * ready for it (so a batch never holds more built messages than there are connections) and
   * kept, so falling back to another MX does not build it twice.
   */
  build(): Promise<Buffer>;
}

export type Preparation =
  | { ok: true; message: PreparedMessage }
  /** Invalid content or fields; or a DKIM key that does not parse (transport, retried). */
  | { ok: false; outcome: SendOutcome };

export interface MessageBuilderOptions {
  tokenSecret: string;
  bounceDomain: string;
  bouncePrefix: string;
  messageIdDomain: string;
  unsubscribeBaseUrl?: string;
  dkim?: (fromDomain: string) => DkimKey | null;
  templateCacheSize: number;
}

/**
 * Bodies go out with CRLF line ends only. nodemailer leaves a bare LF of a 7bit part as it is;
 * its SMTP stream would convert it, but after DKIM has hashed the body, and a bare LF is not
 * SMTP (RFC 5321 §2.3.8; servers guarding against smuggling refuse it).
 */
const crlf = (body: string) => body.replace(/\r\n|\r|\n/gu, "\r\n");

/** A header value written as is: ours are ASCII and short, with nothing to encode or fold. */
const prepared = (key: string, value: string): MimeNodeHeader => ({
  key,
  value: { prepared: true, value },
});

/**
 * Builds each recipient's message: the delivery's content rendered with the recipient's fields,
 * the gateway's identity and tracking headers, the VERP envelope. One message per recipient, so
 * a bounce, a complaint or an unsubscription names exactly one message by its token.
 */
export function createMessageBuilder(options: MessageBuilderOptions) {
  const contents = createContentCache(options.templateCacheSize);
  // One signer per key, its PEM parsed once: nodemailer would parse it for every signature, and
  // it silently sends the message unsigned when the key does not parse. A broken key is our
  // configuration's fault: the message waits (transport, retried) rather than leave unsigned.
  const signers = new Map<string, DKIM | Error>();

  function signerFor(content: DeliveryContent): DKIM | Error | null {
    if (!options.dkim) return null;
    const key = options.dkim(content.fromDomain);
    if (!key) return null;
    const id = `${key.domainName}\u0000${key.keySelector}\u0000${key.privateKey}`;
    let signer = signers.get(id);
    if (signer === undefined) {
      let privateKey: KeyObject | null = null;
      try {
        privateKey = createPrivateKey(key.privateKey);
      } catch {
        // Not the word "DKIM": the core's rules read it as an authentication refusal.
        signer = new Error(
          `the signing key of ${key.domainName} (selector ${key.keySelector}) does not parse`,
        );
      }
      if (privateKey) {
        signer = new DKIM({ domainName: key.domainName, keySelector: key.keySelector, privateKey });
      }
      if (signers.size >= 100) signers.clear();
      signers.set(id, signer!);
    }
    return signer!;
  }

  function prepare(message: OutgoingMessage): Preparation {
    const check = contents.get(message.deliveryId, message.content);
    if (!check.ok) {
      return {
        ok: false,
        outcome: { kind: "invalid", problem: "content", detail: check.problem },
      };
    }
    const content = check.content;
    const fields = message.fields;
    const subject = content.subject.render(fields, "line");
    const text = content.text?.render(fields, "text") ?? null;
    const html = content.html?.render(fields, "html") ?? null;
    const missing = new Set<string>();
    for (const r of [subject, text, html]) if (r && !r.ok) r.missing.forEach((f) => missing.add(f));
    if (missing.size > 0 || !subject.ok || (text && !text.ok) || (html && !html.ok)) {
      return {
        ok: false,
        outcome: {
          kind: "invalid",
          problem: "personalization",
          detail: `missing personalization fields: ${[...missing].join(", ")}`,
        },
      };
    }

    const token = messageToken(message.id, options.tokenSecret);
    const envelope = {
      from: `${options.bouncePrefix}+${token}@${options.bounceDomain}`,
      to: [message.address],
    };
    const headers: MimeNodeHeader[] = content.headers.map(([key, value]) => ({ key, value }));
    headers.push(prepared("X-Sendgate-Id", token));
    if (options.unsubscribeBaseUrl) {
      headers.push(prepared("List-Unsubscribe", `<${options.unsubscribeBaseUrl}${token}>`));
      // RFC 8058: the receiver may POST to the URL to unsubscribe, without a page to click.
      headers.push(prepared("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
    }
    const signer = signerFor(content);
    if (signer instanceof Error) {
      return { ok: false, outcome: networkOutcome("EDKIM", signer.message) };
    }
    let built: Promise<Buffer> | null = null;

    return {
      ok: true,
      message: {
        domain: emailDomain(message.address),
        envelope,
        token,
        build() {
          built ??= (() => {
            const mime = new MailComposer({
              // Objects, not strings: nodemailer then encodes the display name (RFC 2047) and
              // never re-parses an address the core already normalized.
              from: content.from,
              ...(content.replyTo ? { replyTo: content.replyTo } : {}),
              to: { name: "", address: message.address },
              subject: subject.value,
              ...(text?.ok ? { text: crlf(text.value) } : {}),
              ...(html?.ok ? { html: crlf(html.value) } : {}),
              messageId: `<${token}@${options.messageIdDomain}>`,
              headers,
              envelope,
              disableFileAccess: true,
              disableUrlAccess: true,
              // The token is unique per message and unguessable (a MAC): a boundary no content
              // holds, without nodemailer drawing random bytes for every MIME part (a measurable
              // share of the channel's CPU).
              baseBoundary: token,
            }).compile();
            if (signer) {
              mime.processFunc((input) => signer.sign(input));
              return mime.build();
            }
            // The same bytes as build(), without its streams (compose.ts).
            let raw: Buffer | null;
            try {
              raw = serializeMime(mime);
            } catch (error) {
              return Promise.reject(error);
            }
            return raw ? Promise.resolve(raw) : mime.build();
          })();
          return built;
        },
      },
    };
  }

  return { prepare };
}

export type MessageBuilder = ReturnType<typeof createMessageBuilder>;
