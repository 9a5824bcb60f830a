import { describe, expect, it } from "vitest";
import { compileRules, qualify, replaceShipped, ruleError } from "./engine.ts";
import { defaultRuleSet, shippedRules } from "./rules/index.ts";
import type { QualificationInput, Rule, Verdict } from "./types.ts";
import { reasons } from "../failure.ts";

const defaults = compileRules(defaultRuleSet);
const failure = (v: Verdict) => (v.outcome === "failure" ? [v.type, v.reason] : [v.outcome]);
const run = (input: QualificationInput) => qualify(defaults, input);

describe("default rule set", () => {
  it.each<[string, QualificationInput, unknown[]]>([
    ["user unknown (Postfix)", {
      channel: "email",
      kind: "smtp",
      code: 550,
      text:
        "5.1.1 <a@b.example>: Recipient address rejected: User unknown in virtual mailbox table",
    }, ["hard", 1]],
    ["over quota (Gmail)", {
      channel: "email",
      kind: "smtp",
      code: 452,
      text: "4.2.2 The email account that you tried to reach is over quota",
    }, ["soft", 5]],
    ["domain not found", {
      channel: "email",
      kind: "smtp",
      code: 550,
      text: "5.4.4 Host or domain name not found",
    }, ["soft", 2]],
    ["SMPP 0x0B", { channel: "sms", kind: "submit", commandStatus: 0x0b }, ["hard", 1]],
    ["DELIVRD", { channel: "sms", kind: "receipt", stat: "DELIVRD", err: "000" }, ["success"]],
    ["EXPIRED", { channel: "sms", kind: "receipt", stat: "EXPIRED", err: "000" }, ["ignored", 6]],
    ["push 410", { channel: "push", kind: "http", status: 410 }, ["hard", 1]],
    ["421 try again later", {
      channel: "email",
      kind: "smtp",
      code: 421,
      text: "4.7.0 Try again later, closing connection",
    }, ["ignored", 3]],
    ["SMPP 0x58", { channel: "sms", kind: "submit", commandStatus: 0x58 }, ["ignored", 3]],
  ])("%s", (_name, input, expected) => {
    expect(failure(run(input).verdict)).toEqual(expected);
  });

  it("retries throttling with back-off and never counts it", () => {
    const v = run({ channel: "sms", kind: "submit", commandStatus: 0x58 }).verdict;
    expect(v).toMatchObject({
      outcome: "failure",
      type: "ignored",
      retry: "backoff",
      toQualify: false,
    });
  });

  it("reads DELIVRD as received on mobile and ENROUTE as progress", () => {
    expect(run({ channel: "sms", kind: "receipt", stat: "DELIVRD" }).verdict)
      .toEqual({ outcome: "success", status: "receivedOnMobile" });
    expect(run({ channel: "sms", kind: "receipt", stat: "ENROUTE" }).verdict).toEqual({
      outcome: "intermediate",
    });
    expect(run({ channel: "sms", kind: "submit", commandStatus: 0 }).verdict)
      .toEqual({ outcome: "success", status: "takenIntoAccount" });
  });

  it.each<[string, QualificationInput, unknown[]]>([
    [
      "UNDELIV unknown subscriber",
      { channel: "sms", kind: "receipt", stat: "UNDELIV", err: "001" },
      ["hard", 1],
    ],
    [
      "UNDELIV absent subscriber",
      { channel: "sms", kind: "receipt", stat: "UNDELIV", err: "027" },
      ["ignored", 6],
    ],
    ["UNDELIV other", { channel: "sms", kind: "receipt", stat: "UNDELIV", err: "099" }, [
      "soft",
      3,
    ]],
    ["REJECTD", { channel: "sms", kind: "receipt", stat: "REJECTD", err: "000" }, ["soft", 20]],
    ["DELETED", { channel: "sms", kind: "receipt", stat: "DELETED", err: "000" }, ["ignored", 3]],
    ["UNKNOWN", { channel: "sms", kind: "receipt", stat: "UNKNOWN", err: "000" }, ["undefined", 0]],
    ["vendor SMPP code", { channel: "sms", kind: "submit", commandStatus: 0x401 }, ["soft", 3]],
    ["bad source address is ours", { channel: "sms", kind: "submit", commandStatus: 0x0a }, [
      "ignored",
      3,
    ]],
    ["SMPP timeout", { channel: "sms", kind: "network", code: "ETIMEDOUT" }, ["ignored", 3]],
    ["push 404", { channel: "push", kind: "http", status: 404 }, ["hard", 1]],
    ["push 413", { channel: "push", kind: "http", status: 413 }, ["soft", 20]],
    ["push 400", { channel: "push", kind: "http", status: 400 }, ["ignored", 3]],
    ["push 503", { channel: "push", kind: "http", status: 503 }, ["ignored", 3]],
    ["push 418", { channel: "push", kind: "http", status: 418 }, ["undefined", 0]],
    ["push 201", { channel: "push", kind: "http", status: 201 }, ["success"]],
    ["no such domain", {
      channel: "email",
      kind: "network",
      code: "ENOTFOUND",
      text: "queryMx ENOTFOUND x.invalid",
    }, ["soft", 2]],
    ["connection refused", { channel: "email", kind: "network", code: "ECONNREFUSED" }, [
      "ignored",
      3,
    ]],
  ])("%s", (_name, input, expected) => {
    expect(failure(run(input).verdict)).toEqual(expected);
  });

  it("gives push 413 and 400 no retry, 429 its Retry-After, 401 a pause", () => {
    expect(run({ channel: "push", kind: "http", status: 413 }).verdict).toMatchObject({
      retry: "never",
    });
    expect(run({ channel: "push", kind: "http", status: 400 }).verdict).toMatchObject({
      retry: "never",
    });
    expect(run({ channel: "push", kind: "http", status: 429, retryAfterMs: 30_000 }).verdict)
      .toMatchObject({ type: "ignored", reason: 3, retry: "backoff", retryAfterMs: 30_000 });
    expect(run({ channel: "push", kind: "http", status: 401 }).verdict).toMatchObject({
      pauseDelivery: true,
    });
  });

  it("only ships (type, reason) pairs that DOMAIN §2 allows, with unique ids", () => {
    const ids = new Set<string>();
    for (const rule of shippedRules) {
      expect(reasons[rule.reason].types, rule.id).toContain(rule.type);
      expect(ids.has(rule.id), rule.id).toBe(false);
      ids.add(rule.id);
      expect(ruleError(rule), rule.id).toBeNull();
    }
  });
});

describe("fallbacks", () => {
  it("uses the enhanced code when no text rule matches", () => {
    const q = run({ channel: "email", kind: "smtp", code: 550, text: "5.1.1 zzqx" });
    expect(q.verdict).toMatchObject({
      type: "hard",
      reason: 1,
      source: "enhanced",
      toQualify: false,
    });
  });

  it("uses the reply-code class and marks the entry to qualify", () => {
    expect(run({ channel: "email", kind: "smtp", code: 554, text: "zzqx" }).verdict)
      .toMatchObject({ type: "soft", reason: 3, source: "class", toQualify: true });
    expect(run({ channel: "email", kind: "smtp", code: 451, text: "zzqx" }).verdict)
      .toMatchObject({ type: "ignored", reason: 3, source: "class", toQualify: true });
  });

  it("reads a DSN's status and diagnostic", () => {
    const q = run({
      channel: "email",
      kind: "dsn",
      action: "failed",
      status: "5.2.2",
      diagnosticCode: "smtp; 552 5.2.2 zzqx",
    });
    expect(q.text).toBe("5.2.2 552 5.2.2 zzqx");
    expect(q.verdict).toMatchObject({ type: "soft", reason: 5 });
    expect(run({ channel: "email", kind: "dsn", action: "delayed", status: "4.4.1" }).verdict)
      .toEqual({ outcome: "intermediate" });
  });

  it("says undefined (0), to qualify, when nothing matched", () => {
    const q = run({
      channel: "email",
      kind: "dsn",
      action: "failed",
      diagnosticCode: "x-unix; zzqx",
    });
    expect(q.verdict).toMatchObject({
      type: "undefined",
      reason: 0,
      source: "none",
      toQualify: true,
      retry: "schedule",
    });
  });
});

describe("canonical text", () => {
  it("drops the codes repeated on each line of a multi-line reply", () => {
    const q = run({
      channel: "email",
      kind: "smtp",
      code: 550,
      text:
        "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 https://support.example/?p=NoSuchUser a1b2c3 - gsmtp",
    });
    expect(q.text).toBe(
      "550 5.1.1 The email account that you tried to reach does not exist. https://support.example/?p=NoSuchUser a1b2c3 - gsmtp",
    );
    expect(q.normalized).toBe(
      "550 5.1.1 The email account that you tried to reach does not exist. https://support.example/?p=NoSuchUser #xxx# - gsmtp",
    );
  });

  it("writes receipts as SR <provider> <stat> <err>|#MESSAGE#", () => {
    const q = run({
      channel: "sms",
      kind: "receipt",
      provider: "acme",
      stat: "undeliv",
      err: "001",
    });
    expect(q.text).toBe("SR acme UNDELIV 001|#MESSAGE#");
    expect(q.normalized).toBe(q.text);
  });
});

describe("layers", () => {
  const operatorRule: Rule = {
    id: "op-1",
    channel: "email",
    pattern: "user unknown",
    type: "ignored",
    reason: 3,
  };

  it("lets the operator layer win", () => {
    const rules = compileRules({ ...defaultRuleSet, operator: [operatorRule] });
    const q = qualify(rules, {
      channel: "email",
      kind: "smtp",
      code: 550,
      text: "5.1.1 User unknown",
    });
    expect(q.verdict).toMatchObject({ type: "ignored", reason: 3, ruleId: "op-1" });
  });

  it("keeps operator rules when the shipped layer is replaced", () => {
    const set = replaceShipped({ ...defaultRuleSet, operator: [operatorRule] }, []);
    expect(set.operator).toEqual([operatorRule]);
    expect(set.shipped).toEqual([]);
  });

  it("refuses a broken regular expression", () => {
    expect(ruleError({ pattern: "(", regex: true })).toMatch(/invalid regular expression/);
    expect(() =>
      compileRules({ shipped: [], operator: [{ ...operatorRule, pattern: "(", regex: true }] })
    )
      .toThrow(/op-1/);
  });
});

describe("the SMTP stage", () => {
  const rules = compileRules(defaultRuleSet);
  it("turns a hard reply after DATA into soft 20 (a filter speaking), keeping RCPT's hard", () => {
    const text = "5.1.1 <a@example.com>: Recipient address rejected: User unknown";
    const rcpt = qualify(rules, { channel: "email", kind: "smtp", code: 550, text, stage: "rcpt" });
    const data = qualify(rules, { channel: "email", kind: "smtp", code: 550, text, stage: "data" });
    expect(rcpt.verdict).toMatchObject({ type: "hard", reason: 1 });
    expect(data.verdict).toMatchObject({ type: "soft", reason: 20, retry: "schedule" });
    // Two entries of the qualification table, not one that flips.
    expect(data.normalized).not.toBe(rcpt.normalized);
    expect(data.text).toMatch(/\[after DATA\]$/u);
  });

  it("does the same for a DSN whose report says the reply answered DATA", () => {
    const dsn = (stage?: "rcpt" | "data") =>
      qualify(rules, {
        channel: "email",
        kind: "dsn",
        action: "failed",
        status: "5.1.1",
        diagnosticCode: "smtp; 550 5.1.1 <a@example.com>: User unknown",
        ...(stage ? { stage } : {}),
      });
    expect(dsn("rcpt").verdict).toMatchObject({ type: "hard", reason: 1 });
    expect(dsn().verdict).toMatchObject({ type: "hard", reason: 1 });
    expect(dsn("data").verdict).toMatchObject({ type: "soft", reason: 20 });
    expect(dsn("data").normalized).not.toBe(dsn("rcpt").normalized);
  });

  it("lets a 5xx diagnostic win over a 4.x.x Status when the Action is failed", () => {
    const dsn = (action: string, diagnosticCode: string) =>
      qualify(rules, { channel: "email", kind: "dsn", action, status: "4.4.7", diagnosticCode })
        .verdict;
    // The MTA gave up after deferrals; the last remote answer was a permanent refusal.
    expect(dsn("failed", "smtp; 550 5.2.2 mailbox over quota")).toMatchObject({ reason: 5 });
    expect(dsn("failed", "smtp; 554 rejected")).toMatchObject({ type: "soft", reason: 3 });
    // A temporary diagnostic leaves the Status as it is.
    expect(dsn("failed", "smtp; 421 try later")).toMatchObject({ type: "ignored" });
  });
});
