import { writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compare, type GatewayMessage, type LedgerRecord } from "../scripts/load/compare.ts";
import { backends } from "./support/harness.ts";
import { baseEnv, run } from "./support/process.ts";
import { scratchDatabaseUrl } from "./support/scratch-database.ts";

// `npm run load`: the verdict's rules on their own, then the runner as a user runs it, on each
// backend, with a verdict that holds and one that must not.

const message = (over: Partial<GatewayMessage>): GatewayMessage => ({
  id: "1",
  channel: "email",
  address: "a@x.example",
  status: "sent",
  failureType: null,
  reason: null,
  attempt: 1,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:01.000Z",
  ...over,
});
let seq = 0;
const entry = (over: Partial<LedgerRecord>): LedgerRecord => ({
  seq: ++seq,
  channel: "email",
  recipient: "a@x.example",
  outcome: "accept",
  sync: { smtp: { code: 250 } },
  expected: { status: "sent", retried: false },
  ...over,
});
const refused = (outcome: string, type: string, reason: number, code = 550): LedgerRecord =>
  entry({
    outcome,
    sync: { smtp: { code } },
    expected: { status: "failed", type, reason, retried: type !== "hard" },
  });

describe("the load runner's verdict", () => {
  it("passes a message that ends as the last answer implies", () => {
    const v = compare(
      [
        message({ id: "1" }),
        message({
          id: "2",
          address: "b@x.example",
          status: "failed",
          failureType: "hard",
          reason: 1,
        }),
        // Taken on its retry: the earlier failure stays beside the status.
        message({ id: "3", address: "c@x.example", failureType: "soft", reason: 5, attempt: 2 }),
      ],
      [
        entry({}),
        { ...refused("userUnknown", "hard", 1), recipient: "b@x.example" },
        { ...refused("mailboxFull", "soft", 5, 452), recipient: "c@x.example" },
        entry({ recipient: "c@x.example" }),
      ],
    );
    expect(v).toMatchObject({ lost: 0, mismatched: 0, duplicates: 0, settled: 3 });
    expect(v.distribution).toEqual({ sent: 1, "failed/hard/1": 1, "sent after soft/5": 1 });
  });

  it("finds the lost, the mismatched and the duplicated", () => {
    const v = compare(
      [
        message({ id: "1", status: "pending" }),
        message({ id: "2", address: "never@x.example" }),
        message({
          id: "3",
          address: "wrong@x.example",
          status: "failed",
          failureType: "soft",
          reason: 5,
        }),
        message({ id: "4", address: "twice@x.example" }),
        message({ id: "5", address: "bounced@x.example" }),
      ],
      [
        { ...refused("userUnknown", "hard", 1), recipient: "wrong@x.example" },
        entry({ recipient: "twice@x.example" }),
        entry({ recipient: "twice@x.example" }),
        // Taken, then a bounce: DOMAIN says failed, the gateway still says sent.
        entry({
          recipient: "bounced@x.example",
          outcome: "bounceLater",
          async: { kind: "bounce" },
          expected: { status: "failed", type: "hard", reason: 1, retried: false },
        }),
      ],
    );
    expect(v).toMatchObject({ lost: 2, mismatched: 2, duplicates: 1 });
    expect(v.problems.map((p) => [p.messageId, p.kind])).toEqual([
      ["1", "lost"],
      ["2", "lost"],
      ["3", "mismatched"],
      ["5", "mismatched"],
    ]);
  });

  it("judges SMS on their receipts: a retry after a failed receipt is no duplicate", () => {
    const sms = (recipient: string, outcome: string, expected: LedgerRecord["expected"]) =>
      entry({ channel: "sms", recipient, outcome, sync: { commandStatus: 0 }, expected });
    const v = compare(
      [
        message({ id: "1", channel: "sms", address: "+1", status: "receivedOnMobile" }),
        // EXPIRED on attempt 1, delivered on attempt 2.
        message({
          id: "2",
          channel: "sms",
          address: "+2",
          status: "receivedOnMobile",
          failureType: "ignored",
          reason: 6,
          attempt: 2,
        }),
        // Still waiting for a receipt that the ledger says will come.
        message({ id: "3", channel: "sms", address: "+3", status: "takenIntoAccount" }),
        // No receipt will ever come: taken into account is where it ends.
        message({ id: "4", channel: "sms", address: "+4", status: "takenIntoAccount" }),
        // Delivered, then submitted again: the handset got it twice.
        message({ id: "5", channel: "sms", address: "+5", status: "receivedOnMobile" }),
      ],
      [
        sms("+1", "delivered", { status: "receivedOnMobile", retried: false }),
        sms("+2", "expired", { status: "failed", type: "ignored", reason: 6, retried: true }),
        sms("+2", "delivered", { status: "receivedOnMobile", retried: false }),
        sms("+3", "delivered", { status: "receivedOnMobile", retried: false }),
        sms("+4", "acceptedNoReceipt", { status: "takenIntoAccount", retried: false }),
        sms("+5", "delivered", { status: "receivedOnMobile", retried: false }),
        sms("+5", "delivered", { status: "receivedOnMobile", retried: false }),
      ],
    );
    expect(v).toMatchObject({ lost: 1, mismatched: 0, duplicates: 1, settled: 4 });
    expect(v.problems).toEqual([expect.objectContaining({ messageId: "3", kind: "lost" })]);
  });

  it("ignores ledger entries of other runs", () => {
    const v = compare([message({})], [entry({}), entry({ recipient: "other@x.example" })]);
    expect(v).toMatchObject({ lost: 0, mismatched: 0, duplicates: 0 });
  });
});

describe.each(backends().map((b) => b.name))("npm run load on %s", (backend) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  const env = async () => {
    if (backend === "pglite") return baseEnv();
    const scratch = await scratchDatabaseUrl("sendgate_load");
    drops.push(scratch.drop);
    return { ...baseEnv(), DATABASE_URL: scratch.url };
  };

  it(
    "sends a mixed load with every synchronous failure, and loses or mismatches nothing",
    async () => {
      const { code, stdout, output } = await run(
        "scripts/load.ts",
        await env(),
        ["--channel", "mixed", "--messages", "600", "--json"],
        120_000,
      );
      expect(code, output).toBe(0);
      const report = JSON.parse(stdout.trim().split("\n").at(-1)!);
      expect(report).toMatchObject({
        channel: "mixed",
        requested: 600,
        accepted: 600,
        settled: 600,
        lost: 0,
        mismatched: 0,
        duplicates: 0,
        timedOut: false,
        database: backend,
      });
      // The default scenario's failures were there to be judged.
      expect(report.distribution["failed/hard/1"]).toBeGreaterThan(0);
      const sent = Object.entries(report.distribution as Record<string, number>)
        .filter(([k]) => k.startsWith("sent")).reduce((sum, [, n]) => sum + n, 0);
      expect(sent).toBeGreaterThan(350);
      // A third is SMS, judged on their receipts.
      expect(report.distribution.receivedOnMobile).toBeGreaterThan(150);
      expect(report.throughput.finalPerSecond).toBeGreaterThan(0);
      expect(report.latencyMs.p99).toBeGreaterThanOrEqual(report.latencyMs.p50);
    },
    150_000,
  );

  it(
    "fails, naming the messages, when the gateway's statuses disagree with the ledger",
    async () => {
      // Bounces after acceptance that go where the gateway never sees them (the scenario sends
      // them to another domain's postmaster; the bounce listener refuses it: no open relay): the
      // gateway says sent where DOMAIN says failed. The runner must see it and exit non-zero.
      const dir = mkdtempSync(join(tmpdir(), "sendgate-load-test-"));
      try {
        const scenario = join(dir, "bounces.json");
        writeFileSync(
          scenario,
          JSON.stringify({
            email: {
              mix: { bounceLater: 1 },
              reportTo: "postmaster@elsewhere.example",
              asyncDelay: { minMs: 300, maxMs: 300 },
            },
          }),
        );
        const { code, stdout, output } = await run(
          "scripts/load.ts",
          await env(),
          ["--channel", "email", "--messages", "20", "--scenario", scenario],
          120_000,
        );
        expect(code, output).toBe(1);
        expect(stdout).toContain("lost 0, mismatched 20, duplicates 0");
        expect(stdout).toMatch(
          /mismatched message \d+ \(load-[0-9a-f]+-\d+@load\.simulator\.example\): sent, but the last answer \(bounceLater\) implies failed\/hard\/1/u,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );

  it("explains a usage error", async () => {
    const { code, output } = await run("scripts/load.ts", baseEnv(), ["--channel", "fax"]);
    expect(code).toBe(2);
    expect(output).toContain("--channel fax: email, push, sms or mixed");
  });
});
