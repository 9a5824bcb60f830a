import { sql } from "drizzle-orm";
import { afterEach, beforeAll, expect, it } from "vitest";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "@sendgate/channels";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { storeInbound, storeReports } from "../apps/gateway/src/services/sms-reports.ts";
import { describeBackends } from "./support/harness.ts";
import { dispatcher, until } from "./support/dispatch.ts";

// Delivery reports of SMS against the dispatcher's report loop, with a scripted SMS channel
// (the SMPP side is tested against the simulator's SMSC): stored reports find their message by
// the provider's id in any rendering, go through the core, and wait when their message is not
// known yet.

/** Accepts every message as provider `p1`, with its number in hex as the SMSC's id. */
function acceptingSms(): ChannelAdapter & { seen: OutgoingMessage[] } {
  const seen: OutgoingMessage[] = [];
  return {
    channel: "sms",
    seen,
    send(batch): Promise<SendOutcome[]> {
      seen.push(...batch);
      return Promise.resolve(batch.map((m) => ({
        kind: "accepted",
        provider: "p1",
        remoteId: `00${BigInt(m.address.slice(1)).toString(16).toUpperCase()}`,
      })));
    },
    close: () => Promise.resolve(),
  };
}
const hexId = (number: string) => BigInt(number.slice(1)).toString(16);
const decId = (number: string) => number.slice(1);

describeBackends("SMS delivery reports", (s) => {
  const running: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    await syncShippedRules(s().database);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    await s().database.rows(sql`update deliveries set state = 'cancelled' where state = 'running'`);
  });

  const delivery = async (key: string, numbers: string[], extra = {}) => {
    const id = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "sms", content: { sender: "Shop", text: "Hello" }, ...extra },
    })).json()).id as string;
    const part = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: numbers.map((address, i) => ({ externalId: `${i}`, address })) },
    });
    expect(part.status).toBe(201);
    expect((await s().call("POST", `/v1/deliveries/${id}/start`, { key })).status).toBe(200);
    return id;
  };
  const messages = async (key: string, id: string) =>
    (await (await s().call("GET", `/v1/deliveries/${id}/messages?limit=100`, { key })).json())
      .items as {
        id: string;
        address: string;
        status: string;
        failureType: string | null;
        reason: number | null;
        attempt: number;
      }[];
  const report = (remoteId: string, stat: string, err = "000") =>
    storeReports(s().database, [{
      provider: "p1",
      source: "smpp",
      remoteId,
      stat,
      err,
      text: null,
    }], Date.now());

  it(
    "applies receipts through the core: delivered, failed with its qualification, progress kept as an event",
    async () => {
      const key = await s().key("sms-r1");
      const adapter = acceptingSms();
      running.push(dispatcher(s().database, [adapter]));
      const id = await delivery(key, ["+33600000001", "+33600000002", "+33600000003"]);
      const taken = await until(
        "taken into account",
        () => messages(key, id),
        (ms) => ms.length === 3 && ms.every((m) => m.status === "takenIntoAccount"),
      );
      const number = (m: number) => taken.find((x) => Number(x.id) === m)!.address;
      const [a, b, c] = ["+33600000001", "+33600000002", "+33600000003"].map((n) =>
        Number(taken.find((x) => x.address === n)!.id)
      );
      // Hex id as the submit_sm_resp gave it, decimal in the receipt; leading zeros; upper case.
      await report(decId(number(a!)), "DELIVRD");
      await report(`000${hexId(number(b!)).toUpperCase()}`, "UNDELIV", "001");
      await report(hexId(number(c!)), "ENROUTE");
      const done = await until(
        "receipts applied",
        () => messages(key, id),
        (ms) =>
          ms.find((m) => Number(m.id) === b)?.status === "failed" &&
          ms.find((m) => Number(m.id) === a)?.status === "receivedOnMobile",
      );
      expect(done.find((m) => Number(m.id) === b)).toMatchObject({
        failureType: "hard",
        reason: 1,
      });
      expect(done.find((m) => Number(m.id) === c)?.status).toBe("takenIntoAccount");
      const events = async (m: number) =>
        (await (await s().call("GET", `/v1/messages/${m}`, { key })).json()).events as {
          event: string;
          status: string;
          text: string | null;
        }[];
      await until("progress event", () => events(c!), (e) => e.some((x) => x.event === "receipt"));
      expect((await events(c!)).at(-1)).toMatchObject({
        event: "receipt",
        status: "takenIntoAccount",
      });
      expect((await events(b!)).at(-1)?.text).toMatch(/^SR p1 UNDELIV 001/u);
      const quarantined = await (await s().call(
        "GET",
        `/v1/quarantine/sms/${encodeURIComponent("+33600000002")}`,
      )).json();
      expect(quarantined).toMatchObject({ status: "quarantined", lastReason: 1 });
      // The delivery's counters agree with its messages, and a duplicate receipt changes nothing.
      const before = (await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json()).counts;
      await report(hexId(number(b!)), "UNDELIV", "001");
      await report(hexId(number(a!)), "DELIVRD");
      await until("duplicates applied", async () => {
        const [r] = await s().database.rows<{ n: number }>(
          sql`select count(*)::int as n from sms_reports where state <> 'applied'`,
        );
        return r!.n;
      }, (n) => n === 0);
      const after = (await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json()).counts;
      expect(after).toEqual(before);
      expect(after.byStatus).toMatchObject({ receivedOnMobile: 1, failed: 1, takenIntoAccount: 1 });
    },
    60_000,
  );

  it(
    "keeps a receipt that came before its submit_sm_resp, and one for an id nobody knows",
    async () => {
      const key = await s().key("sms-r2");
      // The message's id is not known yet: the receipt arrives first and waits.
      await report(hexId("+33600000010"), "DELIVRD");
      await report("ffffffffff", "DELIVRD");
      const probe = dispatcher(s().database, []);
      running.push(probe);
      await until("both waiting", async () => {
        const page = await (await s().call("GET", "/v1/sms/reports")).json();
        return page.items as { remoteId: string }[];
      }, (items) => items.length >= 2);
      await probe.stop();
      running.splice(0);
      const adapter = acceptingSms();
      running.push(dispatcher(s().database, [adapter]));
      const id = await delivery(key, ["+33600000010"]);
      const [m] = await until(
        "the early receipt applied",
        () => messages(key, id),
        (ms) => ms[0]?.status === "receivedOnMobile",
        20_000,
      );
      expect(m!.address).toBe("+33600000010");
      const page = await (await s().call("GET", "/v1/sms/reports")).json();
      expect(page.items.map((r: { remoteId: string }) => r.remoteId)).toContain("ffffffffff");
      expect(page.counts).toEqual(expect.arrayContaining([
        expect.objectContaining({ provider: "p1", state: "waiting" }),
      ]));
      // Operators only.
      expect((await s().call("GET", "/v1/sms/reports", { key })).status).toBe(403);
    },
    60_000,
  );

  it(
    "retries a message whose receipt says the handset was unreachable, reopening its delivery",
    async () => {
      const key = await s().key("sms-r3");
      const adapter = acceptingSms();
      running.push(dispatcher(s().database, [adapter]));
      const id = await delivery(key, ["+33600000020"], {
        retryPolicy: { steps: [{ count: 1, intervalSeconds: 1 }] },
      });
      const [m] = await until(
        "taken",
        () => messages(key, id),
        (ms) => ms[0]?.status === "takenIntoAccount",
      );
      await until(
        "finished",
        async () => (await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json()).state,
        (state) => state === "finished",
      );
      await report(hexId(m!.address), "EXPIRED");
      const retried = await until(
        "sent again",
        () => messages(key, id),
        (ms) => ms[0]?.attempt === 2 && ms[0]?.status === "takenIntoAccount",
        20_000,
      );
      expect(retried[0]).toMatchObject({ failureType: "ignored", reason: 6 });
      expect(adapter.seen.filter((x) => x.address === "+33600000020")).toHaveLength(2);
    },
    60_000,
  );

  it(
    "puts a number that replies STOP on the denylist of the instance that sent to it",
    async () => {
      const key = await s().key("sms-r4");
      const other = await s().key("sms-r4-other");
      running.push(dispatcher(s().database, [acceptingSms()]));
      const id = await delivery(key, ["+33600000030"]);
      await until("taken", () => messages(key, id), (ms) => ms[0]?.status === "takenIntoAccount");
      const rows = await storeInbound(s().database, [
        { provider: "p1", from: "33600000030", to: "SHOP", text: " stop " },
        { provider: "p1", from: "33600000031", to: "SHOP", text: "hello" },
      ], { now: Date.now() });
      expect(rows.map((r) => r.keyword)).toEqual(["STOP", null]);
      const own = await s().call(
        "GET",
        `/v1/suppressions/sms/${encodeURIComponent("+33600000030")}`,
        {
          key,
        },
      );
      expect(await own.json()).toMatchObject({ status: "denylisted" });
      expect(
        (await s().call("GET", `/v1/suppressions/sms/${encodeURIComponent("+33600000030")}`, {
          key: other,
        })).status,
      ).toBe(404);
      const [stored] = await s().database.rows<{ n: number }>(
        sql`select count(*)::int as n from sms_inbound where from_number = '+33600000031'`,
      );
      expect(stored!.n).toBe(1);
    },
    60_000,
  );

  it("configures providers with secrets write-only and every bad field named", async () => {
    const badId = await s().call("PUT", "/v1/sms/providers/Bad%20Id", { json: {} });
    expect((await badId.json()).errors.map((e: { path: string }) => e.path)).toEqual(["param.id"]);
    const bad = await s().call("PUT", "/v1/sms/providers/p8", {
      json: {
        host: "smsc example",
        port: 70_000,
        systemId: "a-system-id-too-long",
        password: "pass\u0000",
        prefixes: ["+33"],
        longMessages: "mms",
      },
    });
    expect(bad.status).toBe(400);
    const paths = (await bad.json()).errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "host",
        "port",
        "systemId",
        "password",
        "prefixes.0",
        "longMessages",
      ]),
    );
    const noPassword = await s().call("PUT", "/v1/sms/providers/p9", {
      json: { host: "127.0.0.1", port: 2775, systemId: "shop" },
    });
    expect(noPassword.status).toBe(400);
    const put = await s().call("PUT", "/v1/sms/providers/p9", {
      json: {
        host: "127.0.0.1",
        port: 2775,
        systemId: "shop",
        password: "secret",
        callbackSecret: "a-callback-secret-of-some-length",
        prefixes: ["33"],
        binds: 2,
      },
    });
    expect(put.status).toBe(200);
    const shown = await put.json();
    expect(shown).toMatchObject({ id: "p9", hasPassword: true, hasCallbackSecret: true });
    expect(JSON.stringify(shown)).not.toMatch(/secret"|a-callback-secret/u);
    // A secret left out keeps its value.
    const again = await s().call("PUT", "/v1/sms/providers/p9", {
      json: { host: "127.0.0.1", port: 2776, systemId: "shop" },
    });
    expect(await again.json()).toMatchObject({ port: 2776, hasPassword: true });
    expect((await s().call("GET", "/v1/sms/providers", { key: await s().key("x") })).status)
      .toBe(403);
    expect((await s().call("DELETE", "/v1/sms/providers/p9")).status).toBe(204);
    expect((await s().call("GET", "/v1/sms/providers/p9")).status).toBe(404);
  });
});
