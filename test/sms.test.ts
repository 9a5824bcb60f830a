import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { defaultScenario, type RunningSimulator, startSimulator } from "@sendgate/simulator";
import type { LedgerEntry } from "../apps/simulator/src/ledger.ts";
import { createChannelRegistry } from "../apps/gateway/src/dispatcher/channels.ts";
import { startDispatcher } from "../apps/gateway/src/dispatcher/dispatcher.ts";
import { createLogger, silentLogger } from "../apps/gateway/src/log.ts";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import process from "node:process";
import { describeBackends } from "./support/harness.ts";
import { until } from "./support/dispatch.ts";

// End to end: the gateway's dispatcher and SMS channel against the simulator's SMSC over real
// SMPP on loopback, receipts back on the bind. Each message's final status, type and reason must
// be what the simulator's ledger says DOMAIN §10 implies for what it answered.

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator(defaultScenario(), {
    controlPort: 0,
    smtpPort: null,
    smppPort: 0,
    pushPort: null,
    pushTlsPort: null,
  });
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

const scenario = async (value: unknown) => {
  const res = await fetch(`${sim.urls.control[0]}/scenario`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  });
  expect(res.status, await res.clone().text()).toBe(200);
};
const smscPort = () => Number(new URL(sim.urls.smpp![0]!).port);

/** A magic number of the simulator (`+1555…NN`, NN the outcome), unique per backend and test. */
const magic = (backend: number, tag: number, outcome: string) =>
  `+1555${backend}${String(tag).padStart(4, "0")}${outcome}`;

describeBackends("SMS against the simulator's SMSC", (s) => {
  const running: { stop(): Promise<void> }[] = [];
  const b = () => (s().database.kind === "postgres" ? 1 : 2);
  beforeAll(async () => {
    await syncShippedRules(s().database);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    await s().database.rows(sql`update deliveries set state = 'cancelled' where state = 'running'`);
    await s().database.rows(sql`delete from sms_providers`);
    await scenario({});
  }, 30_000);

  /** The registry and a dispatcher, as a gateway process runs them. */
  const gateway = async () => {
    const registry = createChannelRegistry({
      database: s().database,
      logger: silentLogger(),
      pushAllow: [],
      refreshMs: 200,
    });
    await registry.refresh();
    const dispatcher = startDispatcher({
      database: s().database,
      logger: process.env.DISPATCH_LOG ? createLogger({ level: "debug" }) : silentLogger(),
      channels: () => registry.plans(),
      receiptIdFormat: (p) => registry.receiptIdFormat(p),
      idleMs: 20,
    });
    running.push({
      async stop() {
        await dispatcher.stop();
        await registry.close();
      },
    });
  };
  const provider = async (id: string, settings: Record<string, unknown> = {}) => {
    const res = await s().call("PUT", `/v1/sms/providers/${id}`, {
      json: {
        host: "127.0.0.1",
        port: smscPort(),
        systemId: "sendgate",
        password: "secret",
        window: 20,
        responseTimeoutMs: 1_000,
        ...settings,
      },
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const send = async (key: string, numbers: string[], extra: Record<string, unknown> = {}) => {
    const id = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: {
        channel: "sms",
        content: { sender: "Shop", text: "Code @ 12€ ok" },
        retryPolicy: { steps: [{ count: 1, intervalSeconds: 1 }] },
        ...extra,
      },
    })).json()).id as string;
    const part = await (await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: numbers.map((address, i) => ({ externalId: `${i}`, address })) },
    })).json();
    expect(part.rejected, JSON.stringify(part)).toEqual([]);
    expect((await s().call("POST", `/v1/deliveries/${id}/start`, { key })).status).toBe(200);
    return id;
  };
  type Msg = {
    id: string;
    address: string;
    status: string;
    failureType: string | null;
    reason: number | null;
    attempt: number;
    provider: string | null;
  };
  const messages = async (key: string, id: string) =>
    (await (await s().call("GET", `/v1/deliveries/${id}/messages?limit=1000`, { key })).json())
      .items as Msg[];
  const ledgerFor = (recipient: string): LedgerEntry[] =>
    sim.ctx.ledger.since(0, 1_000_000).filter((e) => e.recipient === recipient);
  /** Settled: final, or taken into account when the ledger says no receipt will come. */
  const settled = (m: Msg) => {
    const last = ledgerFor(m.address).at(-1);
    if (["pending", "prepared", "sentToProvider"].includes(m.status)) return false;
    if (m.status === "takenIntoAccount") return last?.expected.status === "takenIntoAccount";
    return true;
  };
  const judge = (done: Msg[]) => {
    for (const m of done) {
      const expected = ledgerFor(m.address).at(-1)!.expected;
      if (expected.status === "failed") {
        expect([m.status, m.failureType, m.reason], m.address).toEqual([
          "failed",
          expected.type,
          expected.reason,
        ]);
      } else expect(m.status, m.address).toBe(expected.status);
    }
  };

  it(
    "ends every submit status and receipt of DOMAIN §10 as the ledger says, ids in another base",
    async () => {
      // The SMSC answers hex ids and names them in decimal with leading zeros in its receipts.
      await scenario({
        sms: { idFormat: "hex", receiptIdFormat: "decimal", asyncDelay: { minMs: 20, maxMs: 200 } },
      });
      await provider("smsc");
      await gateway();
      const key = await s().key(`sms-e2e-${b()}`);
      // (02, 10 and 11, a busy provider, have a test of their own below.)
      // 00 delivered, 01 invalid destination, 03 unknown subscriber, 04 expired, 05 rejected,
      // 06 deleted, 07 unknown, 08 absent subscriber, 09 no response, 12 enroute then delivered,
      // 13 submit failed, 14 accepted without a receipt.
      const outcomes = ["00", "01", "03", "04", "05", "06", "07", "08", "09", "12", "13", "14"];
      const numbers = outcomes.map((o) => magic(b(), 1, o));
      const id = await send(key, numbers);
      const done = await until(
        "every message settled",
        () => messages(key, id),
        (ms) => ms.length === numbers.length && ms.every(settled),
        60_000,
      );
      judge(done);
      const delivered = done.find((m) => m.address === magic(b(), 1, "00"))!;
      expect(delivered).toMatchObject({ status: "receivedOnMobile", provider: "smsc" });
      // GSM-7 with the right data_coding: `@` and `€` arrived as they were written.
      expect(ledgerFor(delivered.address)[0]!.extra).toMatchObject({ text: "Code @ 12€ ok" });
      const one = await (await s().call("GET", `/v1/messages/${delivered.id}`, { key })).json();
      expect(one.events.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining(["providerAccepted", "receipt"]),
      );
      expect(one.events.find((e: { event: string }) => e.event === "providerAccepted").detail)
        .toMatchObject({ provider: "smsc" });
      // The unknown subscriber's number is quarantined, for every channel's sender.
      const q = await (await s().call(
        "GET",
        `/v1/quarantine/sms/${encodeURIComponent(magic(b(), 1, "03"))}`,
      )).json();
      expect(q).toMatchObject({ status: "quarantined", lastReason: 1 });
      // The ENROUTE progress report is in the history, without changing the status.
      const enroute = done.find((m) => m.address === magic(b(), 1, "12"))!;
      const history = await (await s().call("GET", `/v1/messages/${enroute.id}`, { key })).json();
      expect(history.events.filter((e: { event: string }) => e.event === "receipt").length)
        .toBeGreaterThanOrEqual(2);
    },
    90_000,
  );

  it(
    "sends a long text in parts, one receipt for the message, and UCS-2 when it must",
    async () => {
      await scenario({ sms: { asyncDelay: { minMs: 20, maxMs: 100 } } });
      await provider("smsc", { longMessages: "sar" });
      await gateway();
      const key = await s().key(`sms-long-${b()}`);
      const long = "Grüße aus Köln — ".repeat(8); // UCS-2 (the dash), 136 units: 3 parts
      const id = await send(key, [magic(b(), 2, "00")], {
        content: { sender: "Shop", text: long },
      });
      const [m] = await until(
        "delivered",
        () => messages(key, id),
        (ms) => ms[0]?.status === "receivedOnMobile",
        30_000,
      );
      const entries = ledgerFor(m!.address);
      expect(entries).toHaveLength(1);
      expect(entries[0]!.extra).toMatchObject({ text: long });
    },
    60_000,
  );

  it("applies a receipt that arrives before its submit_sm_resp", async () => {
    // The response waits 400 ms, the receipt none: it comes first and waits for its message.
    await scenario({
      sms: { latency: { minMs: 400, maxMs: 400 }, asyncDelay: { minMs: 0, maxMs: 0 } },
    });
    await provider("smsc");
    await gateway();
    const key = await s().key(`sms-early-${b()}`);
    const id = await send(key, [magic(b(), 3, "00"), magic(b(), 3, "03")]);
    const done = await until(
      "receipts applied",
      () => messages(key, id),
      (ms) => ms.length === 2 && ms.every((m) => ["receivedOnMobile", "failed"].includes(m.status)),
      30_000,
    );
    judge(done);
    const [waited] = await s().database.rows<{ n: number }>(
      sql`select count(*)::int as n from sms_reports where tries > 0 and state = 'applied'`,
    );
    expect(waited!.n).toBeGreaterThan(0);
  }, 60_000);

  it(
    "backs off a provider that stays busy (throttled, queue full, system error) until validity ends",
    async () => {
      // 02 answers ESME_RTHROTTLED, 10 ESME_RMSGQFUL, 11 ESME_RSYSERR on every try. DOMAIN §10:
      // ignored 3, retried with back-off, not taken from the scheduled retries (the policy allows
      // one), never counted against the address; the validity period (the 60 s minimum) ends it.
      await scenario({ sms: { asyncDelay: { minMs: 20, maxMs: 100 } } });
      await provider("smsc");
      await gateway();
      const key = await s().key(`sms-busy-${b()}`);
      const busy = ["02", "10", "11"].map((o) => magic(b(), 6, o));
      const started = Date.now();
      const id = await send(key, [...busy, magic(b(), 6, "00")], { validitySeconds: 60 });
      const done = await until(
        "validity ended",
        () => messages(key, id),
        (ms) => ms.length === 4 && ms.every(settled),
        120_000,
      );
      judge(done);
      expect(Date.now() - started).toBeGreaterThan(30_000);
      for (const number of busy) {
        const m = done.find((x) => x.address === number)!;
        expect([m.status, m.failureType, m.reason], number).toEqual(["failed", "ignored", 3]);
        expect(m.attempt, number).toBeGreaterThan(2);
        // Every attempt reached the SMSC and was refused there (throttled ones more than once).
        expect(ledgerFor(number).length, number).toBeGreaterThanOrEqual(m.attempt);
        const q = await s().call("GET", `/v1/quarantine/sms/${encodeURIComponent(number)}`);
        if (q.status === 200) expect((await q.json()).status, number).not.toBe("quarantined");
        else expect(q.status, number).toBe(404);
      }
      expect(done.find((m) => m.address === magic(b(), 6, "00"))!.status).toBe("receivedOnMobile");
    },
    180_000,
  );

  it(
    "binds as a transmitter and a receiver pair: submits on one, receipts on the other",
    async () => {
      await scenario({ sms: { asyncDelay: { minMs: 20, maxMs: 100 } } });
      await provider("smsc", { bindMode: "pair", binds: 1 });
      await gateway();
      const key = await s().key(`sms-pair-${b()}`);
      const id = await send(key, [magic(b(), 9, "00"), magic(b(), 9, "03")]);
      const done = await until(
        "receipts applied",
        () => messages(key, id),
        (ms) => ms.length === 2 && ms.every(settled),
        30_000,
      );
      judge(done);
      // One bind the provider allows is two sessions: the simulator only sends receipts to a
      // session bound as receiver or transceiver, and a transmitter never gets one.
      // (Polled: the previous test's sessions may take a moment to be gone.)
      await until(
        "two sessions",
        () => Promise.resolve(sim.smsc!.activeBinds),
        (n) => n === 2,
        5_000,
      );
      const view = await (await s().call("GET", "/v1/sms/providers/smsc")).json();
      expect(view).toMatchObject({ bindMode: "pair", binds: 1 });
    },
    60_000,
  );

  it("rides out an SMSC restart in the middle of a delivery: nothing lost", async () => {
    await scenario({
      sms: { latency: { minMs: 5, maxMs: 30 }, asyncDelay: { minMs: 20, maxMs: 200 } },
    });
    await provider("smsc", { window: 10 });
    await gateway();
    const key = await s().key(`sms-restart-${b()}`);
    // Tags 9000–9399: clear of the other tests' numbers.
    const numbers = Array.from({ length: 400 }, (_, i) => magic(b(), 9_000 + i, "00"));
    const id = await send(key, numbers);
    // Restart once sending is under way: the link drops with submits in flight, the SMSC is gone
    // for 1.5 s, then the bind comes back.
    await until(
      "sending under way",
      () => messages(key, id),
      (ms) => ms.filter((m) => m.status !== "pending" && m.status !== "prepared").length >= 20,
      30_000,
    );
    const binds = sim.smsc!.binds;
    await scenario({
      sms: {
        latency: { minMs: 5, maxMs: 30 },
        asyncDelay: { minMs: 20, maxMs: 200 },
        faults: [{ atMs: sim.ctx.scheduler.elapsed(), durationMs: 1_500, kind: "restart" }],
      },
    });
    const done = await until(
      "every message settled after the restart",
      () => messages(key, id),
      (ms) => ms.length === numbers.length && ms.every(settled),
      90_000,
    );
    judge(done);
    expect(sim.smsc!.binds).toBeGreaterThan(binds);
    expect(done.every((m) => m.status === "receivedOnMobile")).toBe(true);
    // What was in flight when the link dropped went again (ECONNRESET: ignored 3, retried).
    expect(done.some((m) => m.attempt > 1)).toBe(true);
  }, 120_000);

  it("routes by prefix, and fails over when the matching provider is down", async () => {
    await scenario({ sms: { asyncDelay: { minMs: 20, maxMs: 100 } } });
    // `dead` serves +1555… best but nothing listens on its port; `smsc` serves every number.
    await provider("dead", { port: 1, prefixes: ["1555"], priority: 1 });
    await provider("smsc", { prefixes: [], priority: 100 });
    await gateway();
    const key = await s().key(`sms-route-${b()}`);
    const id = await send(key, [magic(b(), 4, "00"), magic(b(), 4, "01")]);
    const done = await until(
      "settled",
      () => messages(key, id),
      (ms) => ms.length === 2 && ms.every(settled),
      60_000,
    );
    judge(done);
    expect(done.find((m) => m.status === "receivedOnMobile")?.provider).toBe("smsc");
  }, 90_000);

  it("says the delivery waits for its provider when the bind is refused", async () => {
    await provider("smsc", { password: "wrong" });
    await gateway();
    const key = await s().key(`sms-refused-${b()}`);
    const id = await send(key, [magic(b(), 5, "00")]);
    const view = await until(
      "waiting for the provider",
      async () => await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json(),
      (d) => d.waiting?.[0]?.kind === "providerDown",
      20_000,
    );
    expect(view.waiting[0]).toMatchObject({ kind: "providerDown", channel: "sms", count: 1 });
    expect(ledgerFor(magic(b(), 5, "00"))).toHaveLength(0);
  }, 60_000);
});
