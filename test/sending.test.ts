import { afterAll, beforeAll, expect, it } from "vitest";
import { parseAllowList } from "@sendgate/channels";
import { defaultScenario, type RunningSimulator, startSimulator } from "@sendgate/simulator";
import type { LedgerEntry } from "../apps/simulator/src/ledger.ts";
import { createChannelRegistry } from "../apps/gateway/src/dispatcher/channels.ts";
import { startDispatcher } from "../apps/gateway/src/dispatcher/dispatcher.ts";
import { silentLogger } from "../apps/gateway/src/log.ts";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { describeBackends } from "./support/harness.ts";
import { until } from "./support/dispatch.ts";

// End to end: the gateway's dispatcher and channels against the simulator over real SMTP and
// HTTP on loopback. Each message's status, type and reason must be what the simulator's ledger
// says DOMAIN §10 implies for what it answered.

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator(defaultScenario(), {
    controlPort: 0,
    smtpPort: 0,
    smppPort: null,
    pushPort: 0,
    pushTlsPort: 0,
  });
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

const port = (url: string) => Number(new URL(url).port);

describeBackends("sending against the simulator", (s) => {
  let stop = async () => {};
  beforeAll(async () => {
    // As a starting gateway does: the shipped qualification rules in the table.
    await syncShippedRules(s().database);
    const smtp = port(sim.urls.smtp![0]!);
    const email = await s().call("PUT", "/v1/channels/email", {
      json: {
        mode: "relay",
        relay: { host: "127.0.0.1", port: smtp, tlsRejectUnauthorized: false, maxConnections: 4 },
        bounceDomain: "bounces.gateway.test",
        unsubscribeBaseUrl: "http://127.0.0.1:8080/u/",
        batchSize: 50,
      },
    });
    expect(email.status).toBe(200);
    expect(
      (await s().call("PUT", "/v1/channels/push", {
        json: { subject: "mailto:ops@gateway.test", batchSize: 50 },
      })).status,
    ).toBe(200);
    const allow = parseAllowList("127.0.0.1");
    if (!allow.ok) throw new Error(allow.error);
    const registry = createChannelRegistry({
      database: s().database,
      logger: silentLogger(),
      pushAllow: allow.allow,
      refreshMs: 200,
    });
    await registry.refresh();
    const dispatcher = startDispatcher({
      database: s().database,
      logger: silentLogger(),
      channels: () => registry.plans(),
      idleMs: 20,
    });
    stop = async () => {
      await dispatcher.stop();
      await registry.close();
    };
  }, 30_000);
  afterAll(() => stop(), 30_000);

  const ledgerFor = (recipient: string): LedgerEntry[] =>
    sim.ctx.ledger.since(0, 1_000_000).filter((e) => e.recipient === recipient);

  async function send(key: string, channel: string, content: unknown, recipients: unknown[]) {
    const id =
      (await (await s().call("POST", "/v1/deliveries", { key, json: { channel, content } }))
        .json()).id as string;
    const part = await (await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients },
    })).json();
    expect(part.rejected, JSON.stringify(part)).toEqual([]);
    await s().call("POST", `/v1/deliveries/${id}/start`, { key });
    return id;
  }
  const messages = async (key: string, id: string) =>
    (await (await s().call("GET", `/v1/deliveries/${id}/messages?limit=1000`, { key })).json())
      .items as {
        id: string;
        address: string;
        status: string;
        failureType: string | null;
        reason: number | null;
      }[];

  it("ends every synchronous email outcome as DOMAIN §10 says", async () => {
    const key = await s().key(`mail-${s().database.kind}`);
    const tag = s().database.kind;
    const locals = [
      "success",
      "unknown",
      "mailboxfull",
      "full-after-data",
      "disabled",
      "spam",
      "trylater",
      "greylist",
      "drop",
    ];
    const addresses = [
      ...locals.map((l) => `${l}+${tag}@simulator.example`),
      `someone+${tag}@unknown-domain.example`,
    ];
    const id = await send(
      key,
      "email",
      { from: "News <news@gateway.test>", subject: "Hi {{name|there}}", text: "Hello" },
      addresses.map((address, i) => ({ externalId: `${i}`, address })),
    );
    const done = await until(
      "every message answered",
      () => messages(key, id),
      (ms) =>
        ms.every((m) => m.status !== "prepared" && (m.status !== "pending" || m.reason !== null)),
      60_000,
    );
    for (const address of addresses) {
      const m = done.find((x) => x.address === address)!;
      const entries = ledgerFor(address);
      expect(entries.length, address).toBe(1);
      const expected = entries[0]!.expected;
      if (expected.status === "sent") {
        expect(m.status, address).toBe("sent");
        continue;
      }
      expect([m.failureType, m.reason], address).toEqual([expected.type, expected.reason]);
      // Failures the schedule retries wait for their retry; the others are final.
      expect(m.status, address).toBe(expected.retried ? "pending" : "failed");
    }
    const unknown = await (await s().call(
      "GET",
      `/v1/quarantine/email/${encodeURIComponent(`unknown+${tag}@simulator.example`)}`,
    )).json();
    expect(unknown).toMatchObject({ status: "quarantined", lastReason: 1 });
    // The message that went out carried the correlation token, the VERP return path and the
    // one-click unsubscription.
    const sent = ledgerFor(`success+${tag}@simulator.example`)[0]!;
    expect(sent.id).toMatch(/^m[0-9a-z]+-[a-z2-7]{16}$/u);
  }, 90_000);

  it("unsubscribes a recipient in one click, for the sending instance only", async () => {
    const key = await s().key(`unsub-${s().database.kind}`);
    const address = `success+unsub-${s().database.kind}@simulator.example`;
    const id = await send(
      key,
      "email",
      { from: "news@gateway.test", subject: "Hi", text: "Hello" },
      [{ externalId: "1", address }],
    );
    await until("sent", () => messages(key, id), (ms) => ms[0]?.status === "sent");
    const token = ledgerFor(address)[0]!.id;
    const click = await s().app.request(`/u/${token}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(click.status).toBe(200);
    const own = await s().call("GET", `/v1/suppressions/email/${encodeURIComponent(address)}`, {
      key,
    });
    expect(await own.json()).toMatchObject({ status: "denylisted" });
    expect(
      (await s().call("GET", `/v1/suppressions/email/${encodeURIComponent(address)}`, {
        key: await s().key("another-shop"),
      })).status,
    ).toBe(404);
    expect((await s().app.request(`/u/${token.slice(0, -1)}x`, { method: "POST" })).status)
      .toBe(404);
    const events =
      (await (await s().call("GET", `/v1/messages/${(await messages(key, id))[0]!.id}`, {
        key,
      })).json()).events.map((e: { event: string }) => e.event);
    expect(events).toContain("unsubscribed");
  }, 60_000);

  it(
    "ends every push outcome as DOMAIN §10 says, through the SSRF guard's allow list",
    async () => {
      const key = await s().key(`push-${s().database.kind}`);
      const behaviours = [
        "accept",
        "gone",
        "notFound",
        "rateLimited",
        "serverError",
        "unavailable",
      ];
      const control = sim.urls.control[0]!;
      const subs = await Promise.all(
        behaviours.map(async (behaviour) =>
          (await (await fetch(`${control}/push/subscriptions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ behaviour }),
          })).json()) as { endpoint: string; keys: { p256dh: string; auth: string } }
        ),
      );
      const id = await send(
        key,
        "push",
        { title: "Hello", body: "from the gateway" },
        subs.map((sub, i) => ({
          externalId: `${i}`,
          address: { endpoint: sub.endpoint, keys: sub.keys },
        })),
      );
      const done = await until(
        "every push answered",
        () => messages(key, id),
        (ms) =>
          ms.length === subs.length &&
          ms.every((m) => m.status !== "prepared" && (m.status !== "pending" || m.reason !== null)),
        60_000,
      );
      for (const [i, sub] of subs.entries()) {
        const m = done.find((x) => x.address === sub.endpoint)!;
        const entries = sim.ctx.ledger.since(0, 1_000_000).filter((e) =>
          e.recipient === sub.endpoint
        );
        expect(entries.length, behaviours[i]).toBeGreaterThanOrEqual(1);
        const expected = entries[0]!.expected;
        if (expected.status === "sent") {
          expect(m.status, behaviours[i]).toBe("sent");
          continue;
        }
        expect([m.failureType, m.reason], behaviours[i]).toEqual([expected.type, expected.reason]);
        expect(m.status, behaviours[i]).toBe(expected.retried ? "pending" : "failed");
      }
    },
    90_000,
  );
}, { pushAllow: "127.0.0.1" });
