import { describe, expect, it } from "vitest";
import { compileRules, defaultRuleSet, qualify } from "@sendgate/core";
import { errorOutcome, parseReply, resultOutcome, stageOf } from "./outcome.ts";

const rules = compileRules(defaultRuleSet);
const verdictOf = (outcome: ReturnType<typeof errorOutcome>) => {
  if (!("input" in outcome)) throw new Error(`no input: ${outcome.kind}`);
  const v = qualify(rules, outcome.input).verdict;
  return v.outcome === "failure" ? [v.type, v.reason] : [v.outcome];
};

describe("parseReply", () => {
  it("splits code, enhanced code and text, on every line of a multi-line reply", () => {
    expect(parseReply("550 5.1.1 <a@b.example>: user unknown", 550)).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "<a@b.example>: user unknown",
    });
    expect(parseReply("550-5.7.1 first\n550-5.7.1 second\n550 5.7.1 third", 550)).toEqual({
      code: 550,
      enhanced: "5.7.1",
      text: "first\nsecond\nthird",
    });
    expect(parseReply("421 Service not available", 421)).toEqual({
      code: 421,
      text: "Service not available",
    });
  });
});

describe("stageOf", () => {
  it("names the command a reply answered", () => {
    expect(stageOf("MAIL FROM", "send")).toBe("mail");
    expect(stageOf("RCPT TO", "send")).toBe("rcpt");
    expect(stageOf("DATA", "send")).toBe("data");
    expect(stageOf("EHLO", "connect")).toBe("helo");
    expect(stageOf("AUTH PLAIN", "connect")).toBe("helo");
    expect(stageOf("STARTTLS", "connect")).toBe("helo");
    expect(stageOf("CONN", "connect")).toBe("connect");
    // A 421 left as CONN during a send answered a pipelined RCPT TO (see stageOf).
    expect(stageOf("CONN", "send")).toBe("rcpt");
    expect(stageOf("API", "send")).toBeUndefined();
  });
});

describe("errorOutcome", () => {
  it("takes a single recipient's own RCPT reply", () => {
    const outcome = errorOutcome({
      code: "EENVELOPE",
      command: "RCPT TO",
      response: "550 5.1.1 all recipients were rejected",
      responseCode: 550,
      rejectedErrors: [{
        code: "EENVELOPE",
        command: "RCPT TO",
        response: "550 5.1.1 <jane@example.com>: Recipient address rejected: User unknown",
        responseCode: 550,
      }],
    }, "send");
    expect(outcome).toEqual({
      kind: "refused",
      input: {
        channel: "email",
        kind: "smtp",
        code: 550,
        enhanced: "5.1.1",
        text: "<jane@example.com>: Recipient address rejected: User unknown",
        stage: "rcpt",
      },
    });
    expect(verdictOf(outcome)).toEqual(["hard", 1]);
  });

  it("qualifies 'user unknown' after DATA as a filter speaking, never hard (DOMAIN §10)", () => {
    const outcome = errorOutcome({
      code: "EMESSAGE",
      command: "DATA",
      response: "550 5.1.1 user unknown",
      responseCode: 550,
    }, "send");
    expect(outcome).toMatchObject({ kind: "refused", input: { stage: "data" } });
    expect(verdictOf(outcome)).toEqual(["soft", 20]);
  });

  it("reads the greeting as the connect stage", () => {
    const outcome = errorOutcome({
      code: "EPROTOCOL",
      command: "CONN",
      response: "554 5.7.1 no SMTP service here",
      responseCode: 554,
    }, "connect");
    expect(outcome).toMatchObject({ kind: "refused", input: { code: 554, stage: "connect" } });
  });

  it.each([
    ["ECONNECTION", "Connection closed unexpectedly", undefined],
    ["ETIMEDOUT", "Timeout", undefined],
    ["ESOCKET", "connect ECONNREFUSED 127.0.0.1:25", "ECONNREFUSED"],
    ["ETLS", "Error initiating TLS - handshake failure", undefined],
    ["EDNS", "getaddrinfo ENOTFOUND smtp.relay.example", "ENOTFOUND"],
    ["EAUTH", 'Missing credentials for "PLAIN"', undefined],
    ["ESTREAM", "stream failed", undefined],
  ])("maps %s without a reply to a network input, ignored 3", (code, message, originalCode) => {
    const outcome = errorOutcome({ code, message, command: "CONN", originalCode }, "connect");
    expect(outcome).toMatchObject({ kind: "transport", input: { kind: "network", code } });
    // The relay's name not resolving is our trouble, not the recipient domain's (soft 2).
    expect(verdictOf(outcome)).toEqual(["ignored", 3]);
  });

  it("keeps a transport text short and without email addresses", () => {
    const outcome = errorOutcome({
      code: "EENVELOPE",
      command: "API",
      message: `Invalid recipient "jane.doe@example.com" ${"x".repeat(500)}`,
    }, "send");
    if (outcome.kind !== "transport" || outcome.input.kind !== "network") throw new Error();
    expect(outcome.input.text).not.toContain("jane.doe@example.com");
    expect(outcome.input.text!.length).toBeLessThanOrEqual(200);
  });

  it("turns a message over the server's SIZE into the refusal the server would give", () => {
    const outcome = errorOutcome({
      code: "EMESSAGE",
      command: "MAIL FROM",
      message: "Message size larger than allowed 1000",
    }, "send");
    expect(outcome).toMatchObject({ kind: "refused", input: { code: 552, enhanced: "5.3.4" } });
    expect(verdictOf(outcome)).toEqual(["soft", 20]);
  });

  it("never reads a 2xx or 3xx reply of a failure as a refusal (the core would call it sent)", () => {
    const outcome = errorOutcome({
      code: "EPROTOCOL",
      command: "CONN",
      response: "250 OK",
      responseCode: 250,
      message: "Unexpected Response",
    }, "send");
    expect(outcome).toMatchObject({ kind: "transport", input: { code: "EPROTOCOL" } });
  });
});

describe("resultOutcome", () => {
  it("keeps the reply and a queue id", () => {
    const info = { accepted: [], rejected: [], envelopeTime: 0, messageTime: 0, messageSize: 0 };
    expect(
      resultOutcome({ ok: true, info: { ...info, response: "250 2.0.0 Ok: queued as 4F2A9C01" } }),
    )
      .toEqual({
        kind: "accepted",
        reply: "250 2.0.0 Ok: queued as 4F2A9C01",
        remoteId: "4F2A9C01",
      });
    expect(resultOutcome({ ok: true, info: { ...info, response: "250 OK" } })).toEqual({
      kind: "accepted",
      reply: "250 OK",
    });
  });

  it("answers a message that could not be built as our trouble, retried (a bad DKIM key)", () => {
    const outcome = resultOutcome({ ok: false, phase: "build", error: new Error("bad key") });
    expect(outcome).toEqual({
      kind: "transport",
      input: {
        channel: "email",
        kind: "network",
        code: "EBUILD",
        text: "the message could not be built: bad key",
      },
    });
    expect(verdictOf(outcome)).toEqual(["ignored", 3]);
  });
});
