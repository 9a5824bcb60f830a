import { sql } from "drizzle-orm";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defaultScenario, type RunningSimulator, startSimulator } from "@sendgate/simulator";
import type { LedgerEntry } from "../apps/simulator/src/ledger.ts";
import {
  type RunningBounceListener,
  startBounceListener,
} from "../apps/gateway/src/bounce-listener.ts";
import { createChannelRegistry } from "../apps/gateway/src/dispatcher/channels.ts";
import { startDispatcher } from "../apps/gateway/src/dispatcher/dispatcher.ts";
import { silentLogger } from "../apps/gateway/src/log.ts";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { describeBackends } from "./support/harness.ts";
import { until } from "./support/dispatch.ts";

// The feedback loop for email, end to end: the gateway sends through the simulator's mail server,
// which sends its reports (DSNs, an auto-reply, an ARF complaint) to the VERP return path over
// SMTP; the gateway's bounce listener stores them before its 250 and the dispatchers apply them
// through the core. Each message must end as the simulator's ledger says.

const BOUNCE_DOMAIN = "bounces.gateway.test";
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator(defaultScenario(), {
    controlPort: 0,
    smtpPort: 0,
    smppPort: null,
    pushPort: null,
    pushTlsPort: null,
  });
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

const port = (url: string) => Number(new URL(url).port);

describeBackends("bounces, auto-replies and complaints back through the listener", (s) => {
  let stop = async () => {};
  let listener: RunningBounceListener;
  beforeAll(async () => {
    await syncShippedRules(s().database);
    listener = await startBounceListener({
      database: s().database,
      logger: silentLogger(),
      host: "127.0.0.1",
      port: 0,
      domains: () => Promise.resolve([BOUNCE_DOMAIN]),
    });
    const res = await fetch(`${sim.urls.control[0]}/scenario`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: {
          reportTo: "envelope",
          relay: { host: "127.0.0.1", port: listener.port },
          asyncDelay: { minMs: 50, maxMs: 300 },
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const email = await s().call("PUT", "/v1/channels/email", {
      json: {
        mode: "relay",
        relay: {
          host: "127.0.0.1",
          port: port(sim.urls.smtp![0]!),
          tlsRejectUnauthorized: false,
          maxConnections: 4,
        },
        bounceDomain: BOUNCE_DOMAIN,
        batchSize: 50,
      },
    });
    expect(email.status).toBe(200);
    const registry = createChannelRegistry({
      database: s().database,
      logger: silentLogger(),
      pushAllow: [],
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
      await listener.close();
    };
  }, 30_000);
  afterAll(() => stop(), 30_000);

  const ledgerFor = (recipient: string): LedgerEntry[] =>
    sim.ctx.ledger.since(0, 1_000_000).filter((e) => e.recipient === recipient);
  type Msg = {
    id: string;
    address: string;
    status: string;
    failureType: string | null;
    reason: number | null;
    attempt: number;
  };

  it(
    "turns sent into failed on a DSN, ignores an auto-reply, denylists on a complaint",
    async () => {
      const tag = s().database.kind;
      const key = await s().key(`bounces-${tag}`);
      const addresses = ["success", "bounce", "softbounce", "ooto", "complaint"].map((l) =>
        `${l}+${tag}@simulator.example`
      );
      const created = await (await s().call("POST", "/v1/deliveries", {
        key,
        json: {
          channel: "email",
          content: { from: "news@gateway.test", subject: "Your news", text: "Hello" },
          // One retry a second later: the soft bounce goes again and bounces again.
          retryPolicy: { steps: [{ count: 1, intervalSeconds: 1 }] },
        },
      })).json();
      const id = created.id as string;
      await s().call("POST", `/v1/deliveries/${id}/parts`, {
        key,
        json: { recipients: addresses.map((address, i) => ({ externalId: `${i}`, address })) },
      });
      expect((await s().call("POST", `/v1/deliveries/${id}/start`, { key })).status).toBe(200);
      const messages = async () =>
        (await (await s().call("GET", `/v1/deliveries/${id}/messages`, { key })).json())
          .items as Msg[];
      const of = (ms: Msg[], local: string) => ms.find((m) => m.address.startsWith(`${local}+`))!;
      const done = await until("the reports applied", messages, (ms) =>
        ms.length === 5 &&
        of(ms, "bounce").status === "failed" &&
        of(ms, "softbounce").status === "failed", 60_000);
      // As the ledger says DOMAIN §10 implies: a DSN a while after "sent" makes it failed.
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
      expect(of(done, "bounce")).toMatchObject({ failureType: "hard", reason: 1 });
      expect(of(done, "softbounce")).toMatchObject({ failureType: "soft", reason: 5, attempt: 2 });
      // The bounce is in the message's history, with its qualified text.
      const history =
        await (await s().call("GET", `/v1/messages/${of(done, "bounce").id}`, { key }))
          .json();
      expect(history.events.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining(["sent", "failure"]),
      );
      // The unknown user is quarantined for everyone; the complaint denylists for this instance.
      const q = await (await s().call(
        "GET",
        `/v1/quarantine/email/${encodeURIComponent(of(done, "bounce").address)}`,
      )).json();
      expect(q).toMatchObject({ status: "quarantined", lastReason: 1 });
      const complained = of(done, "complaint").address;
      const scoped = await until(
        "the complaint applied",
        () =>
          s().database.rows<{ status: string; scope: string }>(
            sql`select status, scope from quarantine where channel = 'email' and address = ${complained}`,
          ),
        (rows) => rows.some((r) => r.status === "denylisted" && r.scope !== ""),
        30_000,
      );
      expect(scoped.every((r) => r.scope !== "")).toBe(true); // never the platform's scope
      expect(of(done, "complaint").status).toBe("sent");
      // The auto-reply is stored, recognized, and changed nothing.
      const reports = await until(
        "every report stored and handled",
        () =>
          s().database.rows<{ state: string; kind: string | null }>(
            sql`select state, kind from email_reports where envelope_to like ${
              "%" + BOUNCE_DOMAIN
            }`,
          ),
        (rows) => rows.length >= 5 && rows.every((r) => r.state !== "pending"),
        30_000,
      );
      expect(reports).toEqual(expect.arrayContaining([{ state: "ignored", kind: "autoReply" }]));
      expect(reports).toEqual(expect.arrayContaining([{ state: "applied", kind: "complaint" }]));
      expect(of(await messages(), "ooto").status).toBe("sent");
    },
    90_000,
  );

  it("is no open relay, and keeps a report that names no message", async () => {
    const transport = createTransport({
      host: "127.0.0.1",
      port: listener.port,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await expect(transport.sendMail({
        envelope: { from: "", to: ["someone@elsewhere.example"] },
        raw: "Subject: relay?\r\n\r\nno\r\n",
      })).rejects.toMatchObject({ responseCode: 550 });
      const forged = [
        "From: MAILER-DAEMON@mx.example.org",
        `To: bounces+m1-aaaaaaaaaaaaaaaa@${BOUNCE_DOMAIN}`,
        "Subject: Undelivered Mail Returned to Sender",
        "",
        "This is the mail system at host mx.example.org.",
        "",
        "<victim@example.org>: host mx.example.org said: 550 5.1.1 User unknown",
        "",
      ].join("\r\n");
      const info = await transport.sendMail({
        envelope: { from: "", to: [`bounces+m1-aaaaaaaaaaaaaaaa@${BOUNCE_DOMAIN}`] },
        raw: forged,
      });
      expect(info.response).toMatch(/^250 /u);
    } finally {
      transport.close();
    }
    const [kept] = await until(
      "the forged report kept",
      () =>
        s().database.rows<{ state: string; detail: { note?: string } }>(
          sql`select state, detail from email_reports where envelope_to like 'bounces+m1-%'`,
        ),
      (rows) => rows.length === 1 && rows[0]!.state !== "pending",
      30_000,
    );
    // A forged token (its MAC does not match): kept, visible, and no quarantine from it.
    expect(kept).toMatchObject({ state: "unmatched" });
    // Visible to operators, without its raw bytes; refused to an instance's key.
    const view = await (await s().call("GET", "/v1/email/reports?state=unmatched")).json();
    expect(view.items[0]).toMatchObject({
      state: "unmatched",
      source: "smtp",
      detail: { note: expect.stringMatching(/token/u) },
    });
    expect(view.items[0].raw).toBeUndefined();
    expect(view.counts).toEqual(expect.arrayContaining([expect.objectContaining({
      state: "unmatched",
    })]));
    const instance = await s().key(`bounce-viewer-${s().database.kind}`);
    expect((await s().call("GET", "/v1/email/reports", { key: instance })).status).toBe(403);
    const [q] = await s().database.rows<{ n: number }>(
      sql`select count(*)::int as n from quarantine where address = 'victim@example.org'`,
    );
    expect(q!.n).toBe(0);
  }, 60_000);
});
