import { sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { HOUR } from "@sendgate/core";
import type { SendOutcome } from "@sendgate/channels";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { describeBackends } from "./support/harness.ts";
import { dispatcher, scriptedChannel, until } from "./support/dispatch.ts";

// The dispatcher against a scripted channel (the channels themselves are tested against the
// simulator): what it claims, in what order, and what the core decides of each outcome.

const email = (extra: Record<string, unknown> = {}) => ({
  channel: "email",
  content: { from: "n@example.com", subject: "Hi", text: "Hello" },
  ...extra,
});

describeBackends("dispatcher", (s) => {
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    // Each test's deliveries stay its own: the next test's dispatchers must not find them.
    await s().database.rows(sql`update deliveries set state = 'cancelled' where state = 'running'`);
  });
  const start = (...args: Parameters<typeof dispatcher>) => {
    const d = dispatcher(...args);
    running.push(d);
    return d;
  };
  const delivery = async (key: string, addresses: string[], extra = {}) => {
    const id =
      (await (await s().call("POST", "/v1/deliveries", { key, json: email(extra) })).json())
        .id as string;
    const part = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: addresses.map((address, i) => ({ externalId: `${i}`, address })) },
    });
    expect(part.status).toBe(201);
    expect((await s().call("POST", `/v1/deliveries/${id}/start`, { key })).status).toBe(200);
    return id;
  };
  const get = async (key: string, id: string) =>
    await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json();
  /** The counters the delivery keeps, checked against a count of its messages. */
  const countsMatch = async (id: string) => {
    const rows = await s().database.rows<{ status: string; n: number }>(
      sql`select status, count(*)::int as n from messages where delivery_id = ${id} group by status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };

  it("sends, qualifies and records every outcome as DOMAIN §10 says", async () => {
    const key = await s().key("d1");
    const channel = scriptedChannel();
    const id = await delivery(key, [
      "ok1@example.com",
      "ok2@example.org",
      "hard1@example.com",
      "soft1@example.com",
      "later1@example.com",
      "net1@example.com",
      "filter1@example.com",
      "template1@example.com",
    ]);
    start(s().database, [channel]);
    // What the channel had seen is read before the counters: read after, a batch sent while the
    // counters were being fetched would pass for decided with the counters of before.
    const { d: done } = await until(
      "every message decided",
      async () => {
        const seen = channel.seen.length;
        return { seen, d: await get(key, id) };
      },
      ({ seen, d }) => (d.counts.byStatus.prepared ?? 0) === 0 && seen >= 8,
    );
    expect(done.counts.byStatus).toMatchObject({ sent: 2, failed: 2, pending: 4 });
    expect(done.counts.byReason).toEqual({ 1: 1, 21: 1 });
    expect(await countsMatch(id)).toEqual(done.counts.byStatus);
    const messages =
      (await (await s().call("GET", `/v1/deliveries/${id}/messages?limit=100`, { key }))
        .json()).items as {
          address: string;
          status: string;
          failureType: string;
          reason: number;
          nextAttemptAt: string | null;
        }[];
    const by = (a: string) => messages.find((m) => m.address.startsWith(a))!;
    expect(by("hard1")).toMatchObject({ status: "failed", failureType: "hard", reason: 1 });
    // "User unknown" after DATA is a filter speaking: soft 20, retried (DOMAIN §10).
    expect(by("filter1")).toMatchObject({ status: "pending", failureType: "soft", reason: 20 });
    expect(by("template1")).toMatchObject({ status: "failed", failureType: "ignored", reason: 21 });
    for (const a of ["soft1", "later1", "net1", "filter1"]) {
      expect(by(a).status, a).toBe("pending");
      expect(by(a).nextAttemptAt, a).not.toBeNull();
    }
    expect(by("soft1")).toMatchObject({ failureType: "soft", reason: 5 });
    expect(by("later1")).toMatchObject({ failureType: "ignored", reason: 3 });
    // The quarantine learned from the address's own faults only.
    const q = async (a: string) =>
      (await s().call("GET", `/v1/quarantine/email/${encodeURIComponent(a)}`)).json();
    expect(await q("hard1@example.com")).toMatchObject({ status: "quarantined", lastReason: 1 });
    expect(await q("soft1@example.com")).toMatchObject({ status: "erroneous", errorCount: 1 });
    expect((await s().call("GET", `/v1/quarantine/email/later1%40example.com`)).status).toBe(404);
    // Each text once in the qualification table; a message's history names each step.
    const entries = (await (await s().call("GET", "/v1/qualification?channel=email")).json()).items;
    expect(entries.map((e: { normalizedText: string }) => e.normalizedText)).toEqual(
      expect.arrayContaining(["550 5.1.1 user unknown", "452 4.2.2 mailbox full"]),
    );
    const msgId = messages.find((m) => m.address.startsWith("hard1"))!;
    const one =
      await (await s().call("GET", `/v1/messages/${(msgId as unknown as { id: string }).id}`, {
        key,
      })).json();
    expect(one.events.map((e: { event: string; status: string }) => `${e.event}:${e.status}`))
      .toEqual(["claimed:prepared", "failure:failed"]);
    expect(done.waiting).toEqual([expect.objectContaining({ kind: "retryScheduled", count: 4 })]);
  });

  it("retries on the delivery's schedule, then fails what the validity period leaves", async () => {
    const key = await s().key("d2");
    let now = Date.now();
    const channel = scriptedChannel();
    const id = await delivery(key, ["soft2@example.com"], {
      retryPolicy: { steps: [{ count: 2, intervalSeconds: 3600 }] },
      validitySeconds: 4 * 3600,
    });
    start(s().database, [channel], { now: () => now });
    await until("first attempt", () => Promise.resolve(channel.seen.length), (n) => n === 1);
    await until("retry scheduled", () => get(key, id), (d) => d.counts.byStatus.pending === 1);
    now += HOUR - 60_000; // not due yet
    await new Promise((r) => setTimeout(r, 200));
    expect(channel.seen.length).toBe(1);
    now += 120_000;
    await until("second attempt", () => Promise.resolve(channel.seen.length), (n) => n === 2);
    expect(channel.seen[1]!.attempt).toBe(2);
    // Its failure stored (the retry scheduled from the clock as it was) before the clock moves:
    // moved earlier, the retry lands an hour after the moved clock and never comes due.
    await until(
      "second retry scheduled",
      () => get(key, id),
      (d) => d.counts.byStatus.pending === 1,
    );
    now += HOUR + 60_000;
    await until("third attempt", () => Promise.resolve(channel.seen.length), (n) => n === 3);
    // The schedule is used up (2 retries): failed, soft, final.
    const done = await until("failed", () => get(key, id), (d) => d.state === "finished");
    expect(done.counts.byStatus).toEqual({ failed: 1 });
    expect(done.counts.byReason).toEqual({ 5: 1 });
  });

  it("fails what still waits when the validity period ends", async () => {
    const key = await s().key("d3");
    let now = Date.now();
    const id = await delivery(key, ["later3@example.com"], { validitySeconds: 2 * 3600 });
    const channel = scriptedChannel();
    start(s().database, [channel], { now: () => now });
    await until("first attempt", () => Promise.resolve(channel.seen.length), (n) => n === 1);
    await until("retry scheduled", () => get(key, id), (d) => d.counts.byStatus.pending === 1);
    now += 3 * HOUR;
    const done = await until("expired", () => get(key, id), (d) => d.state === "finished", 30_000);
    expect(done.counts.byStatus).toEqual({ failed: 1 });
  });

  it("sends a delivery once with two dispatchers on it", async () => {
    const key = await s().key("d4");
    const addresses = Array.from({ length: 1_000 }, (_, i) => `ok${i}@example.com`);
    const id = await delivery(key, addresses);
    const a = scriptedChannel();
    const b = scriptedChannel();
    start(s().database, [a], { batchSize: 25 });
    start(s().database, [b], { batchSize: 25 });
    const done = await until("all sent", () => get(key, id), (d) => d.state === "finished", 60_000);
    expect(done.counts.byStatus).toEqual({ sent: 1_000 });
    const ids = [...a.seen, ...b.seen].map((m) => m.id);
    expect(ids.length).toBe(1_000);
    expect(new Set(ids).size).toBe(1_000);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);
  });

  it("claims again what a dead dispatcher held, once its lease ran out", async () => {
    const key = await s().key("d5");
    const id = await delivery(key, ["ok1@example.com", "ok2@example.com"]);
    let now = Date.now();
    const stuck = scriptedChannel();
    let release = () => {};
    stuck.hold = new Promise((r) => (release = r));
    // One worker, blocked in its send: it cannot claim again, as a dead process would not.
    const dead = start(s().database, [stuck], { now: () => now, leaseMs: 10_000, workers: 1 });
    await until("claimed", () => get(key, id), (d) => d.counts.byStatus.prepared === 2);
    const healthy = scriptedChannel();
    start(s().database, [healthy], { now: () => now });
    await new Promise((r) => setTimeout(r, 200));
    expect(healthy.seen).toEqual([]); // the lease holds
    now += 11_000;
    const done = await until(
      "sent by the other",
      () => get(key, id),
      (d) => d.state === "finished",
    );
    expect(done.counts.byStatus).toEqual({ sent: 2 });
    expect(healthy.seen.length).toBe(2);
    release();
    await dead.stop();
  });

  it(
    "takes deliveries by priority and holds those past the concurrency limit, saying why",
    async () => {
      const key = await s().key("d6");
      const channel = scriptedChannel();
      let release = () => {};
      // Nothing finishes while the claims are observed.
      channel.hold = new Promise((r) => (release = r));
      const bulk = await delivery(key, ["ok1@example.com"]);
      const other = await delivery(key, ["ok3@example.com"], { priority: 5 });
      const urgent = await delivery(key, ["ok2@example.com"], { priority: 10 });
      start(s().database, [channel], { maxRunning: 2, workers: 1 });
      await until("one claimed", () => Promise.resolve(channel.batches), (n) => n >= 1);
      const [u, o, b] = [await get(key, urgent), await get(key, other), await get(key, bulk)];
      // A batch from the two first in turn (priority); the third waits for a place.
      expect(u.counts.byStatus).toEqual({ prepared: 1 });
      expect(o.counts.byStatus).toEqual({ prepared: 1 });
      expect(b.counts.byStatus).toEqual({ pending: 1 });
      expect(b.waiting).toEqual([{ kind: "concurrencyLimit", limit: 2, ahead: 2, count: 1 }]);
      release();
    },
    30_000,
  );

  it("says why a delivery waits: scheduled, sending window, affinity, channel", async () => {
    const key = await s().key("d7");
    const later = await delivery(key, ["ok1@example.com"], {
      scheduledAt: new Date(Date.now() + HOUR).toISOString(),
    });
    const closed = await delivery(key, ["ok2@example.com"], {
      // A window that is closed now: it opens in two hours, for one hour, every day.
      sendingWindow: (() => {
        const at = new Date(Date.now() + 2 * HOUR);
        const hh = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:00`;
        return {
          timeZone: "UTC",
          days: [1, 2, 3, 4, 5, 6, 7],
          from: hh(at),
          to: hh(new Date(at.getTime() + HOUR)),
        };
      })(),
    });
    const vip = await delivery(key, ["ok3@example.com"], { affinity: "vip" });
    const sms = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "sms", content: { sender: "ACME", text: "Hi" } },
    })).json()).id;
    await s().call("POST", `/v1/deliveries/${sms}/parts`, {
      key,
      json: { recipients: [{ externalId: "1", address: "+15550000000" }] },
    });
    await s().call("POST", `/v1/deliveries/${sms}/start`, { key });
    const channel = scriptedChannel();
    start(s().database, [channel]);
    await new Promise((r) => setTimeout(r, 300));
    expect(channel.seen).toEqual([]);
    expect((await get(key, later)).waiting).toEqual([
      expect.objectContaining({ kind: "scheduled", count: 1 }),
    ]);
    expect((await get(key, closed)).waiting).toEqual([
      expect.objectContaining({ kind: "sendingWindow", count: 1, until: expect.any(String) }),
    ]);
    expect((await get(key, vip)).waiting).toEqual([
      { kind: "noSenderForAffinity", affinity: "vip", count: 1 },
    ]);
    expect((await get(key, sms)).waiting).toEqual([
      { kind: "channelNotConfigured", channel: "sms", count: 1 },
    ]);
    // A dispatcher serving the pool takes it.
    const pool = scriptedChannel();
    start(s().database, [pool], { affinities: ["vip"] });
    await until("vip sent", () => get(key, vip), (d) => d.state === "finished");
    expect(pool.seen.map((m) => m.address)).toEqual(["ok3@example.com"]);
  });

  it("holds a domain to its rate and lifts a suspension when it ends, cluster-wide", async () => {
    const key = await s().key("d8");
    await s().call("POST", "/v1/domain-rules", {
      json: { domain: "slow.example", rate: { count: 3, periodSeconds: 3600 } },
    });
    await s().call("POST", "/v1/domain-rules", {
      json: {
        domain: "broken.example",
        suspension: { minMessages: 4, errorRate: 0.5, durationSeconds: 3600, windowSeconds: 3600 },
      },
    });
    let now = Date.now();
    const slow = await delivery(key, Array.from({ length: 7 }, (_, i) => `ok${i}@slow.example`));
    const broken = await delivery(key, [
      ...Array.from({ length: 4 }, (_, i) => `hard${i}@broken.example`),
      ...Array.from({ length: 6 }, (_, i) => `ok${i}@broken.example`),
    ]);
    const channel = scriptedChannel();
    start(s().database, [channel], { now: () => now, batchSize: 4, workers: 1 });
    await until("three sent", () => get(key, slow), (d) => d.counts.byStatus.sent === 3);
    await new Promise((r) => setTimeout(r, 300));
    const held = await get(key, slow);
    expect(held.counts.byStatus).toEqual({ sent: 3, pending: 4 });
    expect(held.waiting).toEqual([
      expect.objectContaining({ kind: "domainRateLimit", domain: "slow.example", count: 4 }),
    ]);
    const b = await until(
      "suspended",
      () => get(key, broken),
      (d) => d.waiting?.some((w: { kind: string }) => w.kind === "domainSuspended"),
    );
    expect(b.waiting[0]).toMatchObject({ domain: "broken.example", results: 4, errorRate: 1 });
    const stillPending = b.counts.byStatus.pending;
    expect(stillPending).toBeGreaterThan(0);
    now += HOUR + 60_000;
    await until("slow resumes", () => get(key, slow), (d) => d.counts.byStatus.sent === 6);
    await until("broken resumes", () => get(key, broken), (d) => d.state === "finished");
  }, 60_000);

  it("rides out a push 429 storm with back-off, without using up the schedule", async () => {
    const key = await s().key("d10");
    let now = Date.now();
    const id = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: {
        channel: "push",
        content: { title: "Hi" },
        retryPolicy: { steps: [{ count: 1, intervalSeconds: 3600 }] },
      },
    })).json()).id as string;
    const keys = { p256dh: `B${"A".repeat(86)}`, auth: "A".repeat(22) };
    await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: {
        recipients: [{
          externalId: "1",
          address: { endpoint: "https://push.example.com/s/1", keys },
        }],
      },
    });
    await s().call("POST", `/v1/deliveries/${id}/start`, { key });
    // The push service answers 429 (Retry-After 30 s) four times, then takes the message.
    const seen: number[] = [];
    const push = {
      channel: "push" as const,
      send(batch: readonly { attempt: number }[]): Promise<SendOutcome[]> {
        seen.push(...batch.map((m) => m.attempt));
        return Promise.resolve(batch.map((): SendOutcome =>
          seen.length <= 4
            ? {
              kind: "refused",
              input: { channel: "push", kind: "http", status: 429, body: "", retryAfterMs: 30_000 },
            }
            : { kind: "accepted", reply: "201" }
        ));
      },
      async close() {},
    };
    // The shipped rules, as a starting gateway syncs them: theirs is the 429's retry mode.
    await syncShippedRules(s().database);
    start(s().database, [push], { now: () => now });
    for (let n = 1; n <= 4; n++) {
      await until(`answer ${n}`, () => Promise.resolve(seen.length), (k) => k === n);
      await until("waiting", () => get(key, id), (d) => d.counts.byStatus.pending === 1);
      now += 15_000; // not before the Retry-After
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.length).toBe(n);
      now += 5 * 60_000; // within the back-off's cap, far below the schedule's hour
    }
    const done = await until("sent", () => get(key, id), (d) => d.state === "finished");
    expect(done.counts.byStatus).toEqual({ sent: 1 });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const [row] = await s().database.rows<{ scheduled: number }>(
      sql`select scheduled_retries as scheduled from messages where delivery_id = ${id}`,
    );
    expect(row!.scheduled).toBe(0);
  });

  const pushDelivery = async (key: string, count: number, extra = {}) => {
    const id = (await (await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "push", content: { title: "Hi" }, ...extra },
    })).json()).id as string;
    const keys = { p256dh: `B${"A".repeat(86)}`, auth: "A".repeat(22) };
    const part = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: {
        recipients: Array.from({ length: count }, (_, i) => ({
          externalId: `${i}`,
          address: { endpoint: `https://push.example.com/s/${key}-${i}`, keys },
        })),
      },
    });
    expect(part.status).toBe(201);
    await s().call("POST", `/v1/deliveries/${id}/start`, { key });
    return id;
  };

  it("pauses a push delivery on a 403 (our VAPID keys), says so, and resumes on request", async () => {
    const key = await s().key("d11");
    await syncShippedRules(s().database);
    const id = await pushDelivery(key, 5);
    let forbidden = true;
    const seen: number[] = [];
    const push = {
      channel: "push" as const,
      send(batch: readonly { id: number }[]): Promise<SendOutcome[]> {
        seen.push(...batch.map((m) => m.id));
        return Promise.resolve(
          batch.map((): SendOutcome =>
            forbidden
              ? { kind: "refused", input: { channel: "push", kind: "http", status: 403, body: "" } }
              : { kind: "accepted", reply: "201" }
          ),
        );
      },
      async close() {},
    };
    start(s().database, [push], { batchSize: 1, workers: 1 });
    const paused = await until("paused", () => get(key, id), (d) => d.paused !== null);
    expect(paused.paused.reason).toMatch(/VAPID/u);
    await new Promise((r) => setTimeout(r, 300));
    // One message told; the others wait, and the delivery says why.
    expect(seen.length).toBe(1);
    const waiting = await get(key, id);
    // The refused message is not at fault: ignored 3, it waits for its retry like the others.
    expect(waiting.counts.byStatus).toEqual({ pending: 5 });
    expect(waiting.waiting).toEqual([expect.objectContaining({ kind: "paused", count: 5 })]);
    forbidden = false; // the operator fixed the keys
    const resumed = await s().call("POST", `/v1/deliveries/${id}/resume`, { key });
    expect(resumed.status).toBe(200);
    expect((await resumed.json()).paused).toBeNull();
    const done = await until("sent", () => get(key, id), (d) => d.counts.byStatus.sent === 4);
    expect(done.counts.byStatus).toEqual({ pending: 1, sent: 4 });
    expect(done.waiting).toEqual([expect.objectContaining({ kind: "retryScheduled", count: 1 })]);
    expect((await s().call("POST", `/v1/deliveries/${id}/resume`, { key })).status).toBe(200);
    await s().call("POST", `/v1/deliveries/${id}/cancel`, { key });
    expect((await s().call("POST", `/v1/deliveries/${id}/resume`, { key })).status).toBe(409);
  });

  it("runs a finished delivery again when a part comes after it finished", async () => {
    const key = await s().key("d12");
    const id = await delivery(key, ["ok-a@example.com"]);
    const channel = scriptedChannel();
    start(s().database, [channel]);
    await until("finished", () => get(key, id), (d) => d.state === "finished");
    const part = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: [{ externalId: "b", address: "ok-b@example.com" }] },
    });
    expect(part.status).toBe(201);
    expect((await get(key, id)).state).toBe("running");
    const done = await until("finished again", () => get(key, id), (d) => d.state === "finished");
    expect(done.counts.byStatus).toEqual({ sent: 2 });
    expect(channel.seen.map((m) => m.address)).toEqual(["ok-a@example.com", "ok-b@example.com"]);
  });

  it("cancels in the middle: what is claimed finishes its attempt, the rest is cancelled", async () => {
    const key = await s().key("d9");
    const id = await delivery(key, Array.from({ length: 200 }, (_, i) => `ok${i}@example.com`));
    const channel = scriptedChannel();
    let release = () => {};
    channel.hold = new Promise((r) => (release = r));
    start(s().database, [channel], { batchSize: 20, workers: 1 });
    await until("a batch claimed", () => get(key, id), (d) => d.counts.byStatus.prepared === 20);
    const cancel = await (await s().call("POST", `/v1/deliveries/${id}/cancel`, { key })).json();
    expect(cancel.cancelledMessages).toBe(200);
    release();
    const done = await until(
      "in flight decided",
      () => get(key, id),
      (d) => (d.counts.byStatus.sent ?? 0) === 20,
    );
    // Evidence that it went out wins over the cancel (DOMAIN §3); nothing else was sent.
    expect(done.counts.byStatus).toEqual({ sent: 20, cancelled: 180 });
    await new Promise((r) => setTimeout(r, 200));
    expect(channel.seen.length).toBe(20);
    expect(await countsMatch(id)).toEqual(done.counts.byStatus);
  });
}, { maxRunning: 2 });
