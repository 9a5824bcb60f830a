// deno-lint-ignore-file no-inner-declarations -- a benchmark script: its steps read top to bottom, helpers below
// bench/e2e: the gateway end to end, per channel and per database: messages per second from
// pending to final (the dispatcher claiming, the channel sending to the simulator, the outcomes
// applied through the core), p50/p99 claim → sent latency, and beside each, measured in the same
// run against the same simulator, what that simulator absorbs on its own from a bare client
// (nodemailer's pool with ready-made messages for email, a keep-alive HTTP client with
// pre-encrypted bodies for push): the ratio holds on this noisy machine where absolute numbers do
// not. The simulator runs in a child process; intake is done before the clock starts.
//
//   npx tsx bench/e2e.ts [--messages 20000] [--backends postgres,pglite] [--channels email,push,sms]
//   npx tsx bench/e2e.ts --queued 1000000     # RSS while a million messages wait
//
// PostgreSQL needs DATABASE_URL (a scratch database is created and dropped). Peak RSS is this
// process's: the gateway, and the bare clients in their rows.
import { fork } from "node:child_process";
import http from "node:http";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { createTransport } from "nodemailer";
import webpush from "web-push";
import { Buffer } from "node:buffer";
import { connect, type PDU } from "smpp";
import { parseAllowList, type SmsChannel } from "@sendgate/channels";
import { createApp } from "@sendgate/gateway";
import type { Database } from "@sendgate/db";
import { defaultScenario, parseScenario, startSimulator } from "@sendgate/simulator";
import { createChannelRegistry } from "../apps/gateway/src/dispatcher/channels.ts";
import { startDispatcher } from "../apps/gateway/src/dispatcher/dispatcher.ts";
import { silentLogger } from "../apps/gateway/src/log.ts";
import { createKey } from "../apps/gateway/src/services/keys.ts";
import { syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { scratchDatabase } from "../test/support/scratch-database.ts";

type Ready = { smtp: string; push: string; smpp: string; control: string };
type Subscription = { endpoint: string; keys: { p256dh: string; auth: string } };

if (process.argv.includes("--serve")) {
  const parsed = parseScenario({
    email: { mix: { accept: 1 } },
    push: { mix: { accept: 1 } },
    sms: { mix: { delivered: 1 }, asyncDelay: { minMs: 50, maxMs: 500 } },
  });
  const sim = await startSimulator(parsed.ok ? parsed.scenario : defaultScenario(), {
    controlPort: 0,
    smtpPort: 0,
    smppPort: 0,
    pushPort: 0,
    pushTlsPort: 0,
  });
  process.on("message", async (m: string) => {
    if (m === "stats") process.send!({ ledger: sim.ctx.ledger.size });
    if (m === "close") {
      await sim.close();
      process.exit(0);
    }
  });
  process.send!({
    smtp: sim.urls.smtp![0]!,
    push: sim.urls.push![0]!,
    smpp: sim.urls.smpp![0]!,
    control: sim.urls.control[0]!,
  });
} else {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "20000" },
      backends: { type: "string", default: "postgres,pglite" },
      channels: { type: "string", default: "email,push,sms" },
      queued: { type: "string" },
    },
  });
  const N = Number(values.messages);
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>() => new Promise<T>((resolve) => child.once("message", (m) => resolve(m as T)));
  const ready = await next<Ready>();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60 * 60_000);
  killer.unref();

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  sampler.unref();

  console.log(
    `e2e: ${N} messages per row; ${os.cpus().length} × ${
      os.cpus()[0]?.model
    }; node ${process.version}; ` +
      `simulator in a child process; ${new Date().toISOString().slice(0, 10)}`,
  );
  if (values.queued) {
    await queued(Number(values.queued));
  } else if (values.channels.split(",").some((c) => c !== "sms")) {
    console.log(
      "| channel | database | messages/s pending → final | raw simulator messages/s | ratio | claim → sent p50 / p99 ms | peak RSS MiB |",
    );
    console.log("|---|---|---|---|---|---|---|");
    const channels = values.channels.split(",") as ("email" | "push" | "sms")[];
    for (const channel of channels.filter((c) => c !== "sms") as ("email" | "push")[]) {
      for (const backend of values.backends.split(",") as ("postgres" | "pglite")[]) {
        const raw = channel === "email" ? await rawEmail(N) : await rawPush(N);
        peakRss = process.memoryUsage().rss;
        const row = await gateway(backend, channel, N);
        console.log(
          `| ${channel} | ${backend} | ${Math.round(row.rate)} | ${Math.round(raw)} | ${
            (row.rate / raw).toFixed(2)
          } | ${row.p50.toFixed(0)} / ${row.p99.toFixed(0)} | ${(peakRss / 2 ** 20).toFixed(0)} |`,
        );
      }
    }
  }
  if (!values.queued && values.channels.split(",").includes("sms")) {
    console.log("");
    console.log(
      "| channel | database | SMS/s pending → taken into account | SMS/s pending → received on mobile | raw SMSC submit_sm/s (smpp package, window 100) | ratio (received) | claim → taken p50 / p99 ms | claim → received p50 / p99 ms | window use (max in flight / window) |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const backend of values.backends.split(",") as ("postgres" | "pglite")[]) {
      const raw = await rawSms(N);
      const row = await smsGateway(backend, N);
      console.log(
        `| sms | ${backend} | ${Math.round(row.takenRate)} | ${Math.round(row.receivedRate)} | ${
          Math.round(raw)
        } | ${(row.receivedRate / raw).toFixed(2)} | ${row.taken.p50.toFixed(0)} / ${
          row.taken.p99.toFixed(0)
        } | ${row.received.p50.toFixed(0)} / ${row.received.p99.toFixed(0)} | ${row.window} |`,
      );
    }
  }
  child.send("close");

  /** The smpp package's client on one transceiver bind, window 100, receipts acknowledged. */
  async function rawSms(total: number): Promise<number> {
    const { hostname, port } = new URL(ready.smpp);
    const session = connect({ host: hostname, port: Number(port) });
    session.on("error", () => {});
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    await new Promise<void>((resolve, reject) =>
      session.bind_transceiver(
        { system_id: "sendgate", password: "secret" },
        (pdu: PDU) => (pdu.command_status === 0 ? resolve() : reject(new Error("bind"))),
      )
    );
    session.on("deliver_sm", (pdu: PDU) => session.send(pdu.response()));
    const text = Buffer.from("Your code is 123456", "latin1");
    let sent = 0;
    let answered = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const one = () => {
        const n = sent++;
        session.submit_sm({
          destination_addr: `+4471${String(n).padStart(8, "0")}`,
          source_addr: "Bench",
          source_addr_ton: 5,
          data_coding: 0,
          short_message: text,
          registered_delivery: 1,
        }, () => {
          answered++;
          if (sent < total) one();
          else if (answered === total) resolve();
        });
      };
      for (let i = 0; i < Math.min(100, total); i++) one();
    });
    const seconds = (performance.now() - started) / 1000;
    await sleep(1_000); // the receipts' tail, acknowledged, before the next row
    await new Promise<void>((resolve) => session.close(() => resolve()));
    return total / seconds;
  }

  /** The gateway's SMS channel: pending → taken into account → received on mobile. */
  async function smsGateway(backend: "postgres" | "pglite", total: number) {
    const { database, drop, call, allow } = await setup(backend);
    try {
      const { hostname, port } = new URL(ready.smpp);
      await call("PUT", "/v1/sms/providers/bench", {
        host: hostname,
        port: Number(port),
        systemId: "sendgate",
        password: "secret",
        binds: 2,
        window: 100,
      });
      const id = (await call("POST", "/v1/deliveries", {
        channel: "sms",
        content: { sender: "Bench", text: "Your code is 123456" },
      })).id as string;
      for (let i = 0; i < total; i += 10_000) {
        await call("POST", `/v1/deliveries/${id}/parts`, {
          recipients: Array.from({ length: Math.min(10_000, total - i) }, (_, k) => ({
            externalId: `${i + k}`,
            address: `+4472${String(i + k).padStart(8, "0")}`,
          })),
        });
      }
      await call("POST", `/v1/deliveries/${id}/start`);
      const registry = createChannelRegistry({
        database,
        logger: silentLogger(),
        pushAllow: allow,
      });
      await registry.refresh();
      const started = performance.now();
      const dispatcher = startDispatcher({
        database,
        logger: silentLogger(),
        channels: () => new Map([...registry.plans()].filter(([c]) => c === "sms")),
        receiptIdFormat: (p) => registry.receiptIdFormat(p),
        idleMs: 20,
      });
      let maxInFlight = 0;
      let window = 0;
      const watch = setInterval(() => {
        const plan = registry.plans().get("sms");
        for (const p of (plan?.adapter as unknown as SmsChannel | undefined)?.status() ?? []) {
          maxInFlight = Math.max(maxInFlight, p.inFlight);
          window = p.window * Math.max(1, p.bound);
        }
      }, 20);
      let takenAt = 0;
      for (;;) {
        const by = await countsOf(database, id);
        const waiting = (by.pending ?? 0) + (by.prepared ?? 0) + (by.sentToProvider ?? 0);
        if (!takenAt && waiting === 0) takenAt = performance.now();
        if ((by.receivedOnMobile ?? 0) === total) break;
        if (performance.now() - started > 600_000) throw new Error("SMS row timed out");
        await sleep(50);
      }
      const seconds = (performance.now() - started) / 1000;
      clearInterval(watch);
      await dispatcher.stop();
      await registry.close();
      return {
        takenRate: total / ((takenAt - started) / 1000),
        receivedRate: total / seconds,
        taken: await latency(database, "providerAccepted"),
        received: await latency(database, "receipt"),
        window: `${maxInFlight} / ${window}`,
      };
    } finally {
      await drop();
    }
  }

  /** Nodemailer's pool with ready-made messages, as bench/simulator-smtp.ts. */
  async function rawEmail(total: number): Promise<number> {
    const { hostname, port } = new URL(ready.smtp);
    const transport = createTransport({
      host: hostname,
      port: Number(port),
      pool: true,
      maxConnections: 10,
      maxMessages: Infinity,
      tls: { rejectUnauthorized: false },
    });
    const raw = (n: number) =>
      `From: bench@gateway.test\r\nTo: user${n}@example.com\r\nSubject: Hi\r\nX-Sendgate-Id: raw-${n}\r\nMessage-ID: <raw-${n}@gateway.test>\r\n\r\nHello\r\n`;
    const started = performance.now();
    let issued = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (issued < total) {
        const n = issued++;
        await transport.sendMail({
          envelope: { from: "bench@gateway.test", to: [`user${n}@example.com`] },
          raw: raw(n),
        });
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    transport.close();
    return total / seconds;
  }

  async function mint(count: number): Promise<Subscription[]> {
    const subs: Subscription[] = [];
    for (let i = 0; i < count; i += 100) {
      subs.push(
        ...await Promise.all(
          Array.from(
            { length: Math.min(100, count - i) },
            async () =>
              (await (await fetch(`${ready.control}/push/subscriptions`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ behaviour: "accept" }),
              })).json()) as Subscription,
          ),
        ),
      );
    }
    return subs;
  }

  /** A keep-alive client with pre-encrypted bodies and one VAPID token, as bench/simulator-push.ts. */
  async function rawPush(total: number): Promise<number> {
    const subs = await mint(200);
    const vapid = webpush.generateVAPIDKeys();
    const authorization = webpush.getVapidHeaders(
      ready.push,
      "mailto:bench@gateway.test",
      vapid.publicKey,
      vapid.privateKey,
      "aes128gcm",
    ).Authorization;
    const bodies = subs.map((s, i) =>
      webpush.encrypt(
        s.keys.p256dh,
        s.keys.auth,
        JSON.stringify({ title: "Hi", sendgateId: `raw-${i}` }),
        "aes128gcm",
      ).cipherText
    );
    const { hostname, port } = new URL(ready.push);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const send = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const i = n % subs.length;
        const req = http.request({
          host: hostname,
          port,
          path: new URL(subs[i]!.endpoint).pathname,
          method: "POST",
          agent,
          headers: {
            ttl: "3600",
            "content-encoding": "aes128gcm",
            "content-type": "application/octet-stream",
            "content-length": bodies[i]!.length,
            authorization,
            "x-sendgate-id": `raw-${n}`,
          },
        }, (res) => {
          res.resume();
          res.on(
            "end",
            () => (res.statusCode === 201 ? resolve() : reject(new Error(`${res.statusCode}`))),
          );
        });
        req.on("error", reject);
        req.end(bodies[i]);
      });
    const started = performance.now();
    let issued = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (issued < total) await send(issued++);
    }));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return total / seconds;
  }

  async function setup(backend: "postgres" | "pglite") {
    const { database, drop } = await scratchDatabase(backend, "sendgate_e2e");
    await syncShippedRules(database);
    const allow = parseAllowList(new URL(ready.push).hostname);
    if (!allow.ok) throw new Error(allow.error);
    const app = createApp({
      database,
      rateLimit: { perSecond: 1e6, burst: 1e6 },
      pushAllow: allow.allow,
      resolve: () => Promise.reject(new Error("no DNS")),
    });
    const key = (await createKey(database, "bench", true)).key;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return await res.json() as Record<string, unknown>;
    };
    const smtp = new URL(ready.smtp);
    await call("PUT", "/v1/channels/email", {
      mode: "relay",
      relay: {
        host: smtp.hostname,
        port: Number(smtp.port),
        tlsRejectUnauthorized: false,
        maxConnections: 10,
      },
      bounceDomain: "bounces.gateway.test",
      batchSize: 200,
      workers: 4,
    });
    await call("PUT", "/v1/channels/push", {
      subject: "mailto:bench@gateway.test",
      batchSize: 200,
      workers: 4,
      maxInFlight: 50,
    });
    return { database, drop, call, allow: allow.allow };
  }

  async function fill(
    call: (m: string, p: string, b?: unknown) => Promise<Record<string, unknown>>,
    channel: "email" | "push",
    total: number,
    subs: Subscription[] = [],
  ): Promise<string> {
    const content = channel === "email"
      ? { from: "Bench <bench@gateway.test>", subject: "Hello {{n}}", text: "Hello {{n}}" }
      : { title: "Hello", body: "bench" };
    const id = (await call("POST", "/v1/deliveries", { channel, content })).id as string;
    for (let i = 0; i < total; i += 10_000) {
      const recipients = Array.from({ length: Math.min(10_000, total - i) }, (_, k) => {
        const n = i + k;
        return channel === "email"
          ? { externalId: `${n}`, address: `user${n}@example.com`, fields: { n } }
          : { externalId: `${n}`, address: { endpoint: subs[n]!.endpoint, keys: subs[n]!.keys } };
      });
      await call("POST", `/v1/deliveries/${id}/parts`, { recipients });
    }
    return id;
  }

  async function gateway(backend: "postgres" | "pglite", channel: "email" | "push", total: number) {
    const { database, drop, call, allow } = await setup(backend);
    try {
      const subs = channel === "push" ? await mint(total) : [];
      const id = await fill(call, channel, total, subs);
      await call("POST", `/v1/deliveries/${id}/start`);
      const registry = createChannelRegistry({
        database,
        logger: silentLogger(),
        pushAllow: allow,
      });
      await registry.refresh();
      const started = performance.now();
      const dispatcher = startDispatcher({
        database,
        logger: silentLogger(),
        channels: () => new Map([...registry.plans()].filter(([c]) => c === channel)),
        idleMs: 20,
      });
      for (;;) {
        const [d] = await database.rows<{ state: string }>(
          sql`select state from deliveries where id = ${id}`,
        );
        if (d!.state === "finished") break;
        await sleep(50);
      }
      const seconds = (performance.now() - started) / 1000;
      await dispatcher.stop();
      await registry.close();
      const { p50, p99 } = await latency(database, "sent");
      const sent = await database.rows<{ n: number }>(
        sql`select count(*)::int as n from messages where status = 'sent'`,
      );
      if (sent[0]!.n !== total) throw new Error(`${sent[0]!.n} of ${total} sent`);
      return { rate: total / seconds, p50, p99 };
    } finally {
      await drop();
    }
  }

  /** RSS while `count` email messages are queued and the dispatcher works through them. */
  async function queued(count: number) {
    const backend = process.env.DATABASE_URL ? "postgres" : "pglite";
    const { database, drop, call, allow } = await setup(backend);
    try {
      const rss = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);
      console.log(`queued: ${count} email messages on ${backend}; RSS before intake ${rss()} MiB`);
      const id = await fill(call, "email", count);
      await call("POST", `/v1/deliveries/${id}/start`);
      console.log(`after intake ${rss()} MiB`);
      const registry = createChannelRegistry({
        database,
        logger: silentLogger(),
        pushAllow: allow,
      });
      await registry.refresh();
      const dispatcher = startDispatcher({
        database,
        logger: silentLogger(),
        channels: () => registry.plans(),
        idleMs: 20,
      });
      for (let i = 0; i < 6; i++) {
        await sleep(10_000);
        const d = await call("GET", `/v1/deliveries/${id}`) as {
          counts: { byStatus: Record<string, number> };
        };
        console.log(
          `+${(i + 1) * 10} s: sent ${d.counts.byStatus.sent ?? 0}, pending ${
            d.counts.byStatus.pending ?? 0
          }, RSS ${rss()} MiB`,
        );
      }
      await dispatcher.stop();
      await registry.close();
      console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      await drop();
    }
  }
}

/**
 * A delivery's counters, read from the table the API reads them from. The bench polls this, not
 * `GET /v1/deliveries/{id}`: that also explains why messages wait (a group-by over the
 * delivery's pending messages, 20 ms at 40,000), which polled every 50 ms took a sixth of
 * PostgreSQL's time away from the dispatcher being measured.
 */
async function countsOf(database: Database, id: string): Promise<Record<string, number>> {
  const rows = await database.rows<{ status: string; n: number }>(
    sql`select status, sum(count)::int as n from delivery_counters where delivery_id = ${id}
        group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** p50 and p99 of claim → `event`, per message, in ms (from the events' timestamps). */
async function latency(database: Database, event: string): Promise<{ p50: number; p99: number }> {
  const rows = await database.rows<{ ms: number }>(sql`
    select extract(epoch from (max(at) filter (where event = ${event}) - min(at) filter (where event = 'claimed'))) * 1000 as ms
    from message_events group by message_id having count(*) filter (where event = ${event}) > 0`);
  const ms = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0;
  return { p50: pct(0.5), p99: pct(0.99) };
}
