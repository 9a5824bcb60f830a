// bench/push-channel: pushes per second through the gateway's push channel (`createPushChannel`)
// to the simulated push service, printed beside the raw keep-alive client of
// bench/simulator-push.ts measured in the same run against an identical server. The server runs
// in a child process (its own core, a fresh one per run); this process is the client.
//
// The raw client pre-encrypts its bodies and signs one VAPID token before the clock starts: it
// is the server's capacity. The channel does everything a real send does inside the clock: the
// endpoint policy, the payload, an aes128gcm encryption per message (web-push's `encrypt`), the
// cached VAPID token per origin, the request through its guarded keep-alive agent, the outcome.
// The goal is a channel rate of at least 0.65 of the raw one.
//
//   npx tsx bench/push-channel.ts
//
// Env: TOTAL (pushes per run, default 20000), CONCURRENCY (requests in flight, default 50, for
// both clients), BATCH (messages per `send` call, default 250), WORKERS (concurrent `send` calls,
// default 4, as a dispatcher's workers would).
import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import http from "node:http";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import webpush from "web-push";
import { createPushChannel, type OutgoingMessage, parseAllowList } from "@sendgate/channels";

const TOTAL = Number(process.env.TOTAL ?? 20_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const BATCH = Number(process.env.BATCH ?? 250);
const WORKERS = Number(process.env.WORKERS ?? 4);
const SUBSCRIPTIONS = 50;

interface Ready {
  push: string;
  control: string;
}
interface Stats {
  total: number;
  accepted: number;
}
interface Subscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

if (process.argv[2] === "--server") {
  // The child: the push service and the control API, nothing else.
  const { defaultScenario, startSimulator } = await import("@sendgate/simulator");
  const running = await startSimulator(defaultScenario(), {
    smtpPort: null,
    smppPort: null,
    pushPort: 0,
    pushTlsPort: null,
  });
  process.on("message", async (message) => {
    if (message === "stats") {
      const push = running.ctx.ledger.summary().push;
      const stats: Stats = { total: push?.total ?? 0, accepted: push?.byOutcome.accept ?? 0 };
      process.send!(stats);
    } else if (message === "close") {
      await running.close();
      process.disconnect!();
    }
  });
  const ready: Ready = { push: running.urls.push![0]!, control: running.urls.control[0]! };
  process.send!(ready);
} else {
  console.log(
    `push channel: ${TOTAL} pushes per run, ${CONCURRENCY} in flight, ${SUBSCRIPTIONS} subscriptions; ` +
      `channel in ${WORKERS} concurrent sends of ${BATCH}; ${os.cpus().length} × ${
        os.cpus()[0]?.model
      }; node ${process.version}; server in a child process`,
  );
  console.log("| client | messages | seconds | messages/s | of raw |");
  console.log("|---|---|---|---|---|");
  const raw = await run("raw", rawClient);
  const rawRate = raw.messages / raw.seconds;
  console.log(
    `| raw keep-alive client (pre-encrypted, one VAPID token) | ${raw.messages} | ${
      raw.seconds.toFixed(2)
    } | ${Math.round(rawRate)} | 1.00 |`,
  );
  const channel = await run("channel", channelClient);
  const rate = channel.messages / channel.seconds;
  console.log(
    `| createPushChannel (encrypts, VAPID cached per origin, guarded agent) | ${channel.messages} | ${
      channel.seconds.toFixed(2)
    } | ${Math.round(rate)} | ${(rate / rawRate).toFixed(2)} |`,
  );
}

type Client = (ready: Ready, subs: Subscription[]) => Promise<number>;

async function run(name: string, client: Client): Promise<{ messages: number; seconds: number }> {
  const child = fork(fileURLToPath(import.meta.url), ["--server"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
    });
  const ready = await next<Ready>();
  const subs: Subscription[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const res = await fetch(`${ready.control}/push/subscriptions`, {
      method: "POST",
      body: JSON.stringify({ behaviour: "accept" }),
    });
    subs.push(await res.json() as Subscription);
  }
  const started = performance.now();
  const accepted = await client(ready, subs);
  const seconds = (performance.now() - started) / 1000;
  child.send("stats");
  const stats = await next<Stats>();
  child.send("close");
  await new Promise((resolve) => child.once("exit", resolve));
  if (accepted !== TOTAL || stats.total !== TOTAL || stats.accepted !== TOTAL) {
    throw new Error(`${name}: ${accepted} accepted, server recorded ${JSON.stringify(stats)}`);
  }
  return { messages: accepted, seconds };
}

/** As bench/simulator-push.ts does it: everything costly done before the clock. */
async function rawClient(ready: Ready, subs: Subscription[]): Promise<number> {
  const vapid = webpush.generateVAPIDKeys();
  const authorization = webpush.getVapidHeaders(
    ready.push,
    "mailto:bench@example.com",
    vapid.publicKey,
    vapid.privateKey,
    "aes128gcm",
  ).Authorization;
  const targets = subs.map((sub, i) => ({
    path: new URL(sub.endpoint).pathname,
    bodies: Array.from({ length: 4 }, (_, n) =>
      webpush.encrypt(
        sub.keys.p256dh,
        sub.keys.auth,
        JSON.stringify({ ...content(i * 4 + n), sendgateId: `raw-${i * 4 + n}` }),
        "aes128gcm",
      ).cipherText),
  }));
  const { hostname, port } = new URL(ready.push);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const send = (n: number) =>
    new Promise<number>((resolve, reject) => {
      const target = targets[n % targets.length]!;
      const body: Buffer = target.bodies[Math.floor(n / targets.length) % target.bodies.length]!;
      const req = http.request({
        host: hostname,
        port,
        path: target.path,
        method: "POST",
        agent,
        headers: {
          ttl: "3600",
          "content-encoding": "aes128gcm",
          "content-type": "application/octet-stream",
          "content-length": body.length,
          authorization,
          "x-sendgate-id": `raw-${n}`,
        },
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      });
      req.on("error", reject);
      req.end(body);
    });
  let issued = 0;
  let accepted = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (issued < TOTAL) {
      const status = await send(issued++);
      if (status !== 201) throw new Error(`push answered ${status}`);
      accepted++;
    }
  }));
  agent.destroy();
  return accepted;
}

/** The adapter as a dispatcher drives it: batches from a few workers at once. */
async function channelClient(ready: Ready, subs: Subscription[]): Promise<number> {
  const allow = parseAllowList(new URL(ready.push).hostname);
  if (!allow.ok) throw new Error(allow.error);
  const channel = createPushChannel({
    vapid: { subject: "mailto:bench@example.com", ...webpush.generateVAPIDKeys() },
    tokenSecret: "bench-secret",
    allow: allow.allow,
    maxInFlight: CONCURRENCY,
    maxSocketsPerOrigin: CONCURRENCY,
  });
  let issued = 0;
  let accepted = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (issued < TOTAL) {
      const batch: OutgoingMessage[] = [];
      for (; batch.length < BATCH && issued < TOTAL; issued++) {
        const sub = subs[issued % subs.length]!;
        batch.push({
          id: issued + 1,
          deliveryId: "bench",
          instanceId: "bench",
          attempt: 1,
          externalId: `e${issued}`,
          address: sub.endpoint,
          addressData: { keys: sub.keys },
          fields: null,
          content: { ...content(issued), ttlSeconds: 3600 },
        });
      }
      for (const outcome of await channel.send(batch)) {
        if (outcome.kind !== "accepted") throw new Error(`outcome ${JSON.stringify(outcome)}`);
        accepted++;
      }
    }
  }));
  await channel.close();
  return accepted;
}

/** The same payload for both clients: the channel adds its sendgateId as the raw one does. */
function content(n: number) {
  return {
    title: "Sale",
    body: `Up to 50% off, item ${n}`,
    data: { url: "https://example.com/s", icon: "/i.png" },
  };
}
