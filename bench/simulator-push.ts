// bench/simulator-push: pushes per second the simulated push service absorbs over plain HTTP
// keep-alive, `CONCURRENCY` requests in flight, to subscriptions whose behaviour is accept.
// The server runs in a child process (its own core); this process is the client. Payloads are
// encrypted and the VAPID JWT signed before the clock starts, so the figure is the server's:
// per request it verifies the VAPID header, decrypts aes128gcm (ECDH + HKDF + AES-GCM), decides
// and records a ledger entry. Two runs: with the server's cache of verified JWTs (default) and
// without it (an ES256 verification per request).
//
//   npx tsx bench/simulator-push.ts
//
// Env: TOTAL (pushes per run, default 20000), SECONDS (cap per run, default 20),
// CONCURRENCY (default 50).
import { fork } from "node:child_process";
import http from "node:http";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import webpush from "web-push";

const TOTAL = Number(process.env.TOTAL ?? 20_000);
const SECONDS = Number(process.env.SECONDS ?? 20);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const SUBSCRIPTIONS = 50;

interface Ready {
  port: number;
  controlPort: number;
}
interface Stats {
  total: number;
  accepted: number;
  protocolErrors: number;
}

if (process.argv[2] === "--server") {
  // The child: the push service and its control API, nothing else.
  const { serve } = await import("@hono/node-server");
  const { SimulatorContext } = await import("../apps/simulator/src/context.ts");
  const { createControlApp } = await import("../apps/simulator/src/control.ts");
  const { defaultScenario } = await import("../apps/simulator/src/scenario.ts");
  const { registerPushControl, startPushService } = await import(
    "../apps/simulator/src/push/server.ts"
  );
  const ctx = new SimulatorContext(defaultScenario());
  const service = await startPushService(ctx, {
    port: 0,
    tlsPort: null,
    vapidCache: process.env.VAPID_CACHE !== "0",
  });
  const app = createControlApp(ctx);
  registerPushControl(app, service);
  const control = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => control.once("listening", resolve));
  process.on("message", async (message) => {
    if (message === "stats") {
      const push = ctx.ledger.summary().push;
      const stats: Stats = {
        total: push?.total ?? 0,
        accepted: push?.byOutcome.accept ?? 0,
        protocolErrors: service.protocolErrors,
      };
      process.send!(stats);
    } else if (message === "close") {
      await service.close();
      control.close();
      ctx.close();
      process.disconnect!();
    }
  });
  const ready: Ready = {
    port: service.port,
    controlPort: (control.address() as { port: number }).port,
  };
  process.send!(ready);
} else {
  console.log(
    `simulator push: up to ${TOTAL} pushes or ${SECONDS} s per run, ${CONCURRENCY} in flight, ${SUBSCRIPTIONS} subscriptions; ` +
      `${os.cpus().length} × ${
        os.cpus()[0]?.model
      }; node ${process.version}; server in a child process`,
  );
  console.log("| server | how | messages | seconds | messages/s |");
  console.log("|---|---|---|---|---|");
  for (const cache of [true, false]) {
    const r = await run(cache);
    console.log(
      `| push | plain HTTP keep-alive, ${CONCURRENCY} in flight, aes128gcm + VAPID, ${
        cache ? "verified-JWT cache on" : "JWT cache off (ES256 verify per push)"
      } | ${r.messages} | ${r.seconds.toFixed(2)} | ${Math.round(r.messages / r.seconds)} |`,
    );
  }
}

async function run(vapidCache: boolean): Promise<{ messages: number; seconds: number }> {
  const child = fork(fileURLToPath(import.meta.url), ["--server"], {
    env: { ...process.env, VAPID_CACHE: vapidCache ? "1" : "0" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
    });
  const ready = await next<Ready>();
  const origin = `http://127.0.0.1:${ready.port}`;

  // Before the clock: subscriptions, bodies encrypted for them, one VAPID header for all.
  const vapid = webpush.generateVAPIDKeys();
  const authorization = webpush.getVapidHeaders(
    origin,
    "mailto:bench@example.com",
    vapid.publicKey,
    vapid.privateKey,
    "aes128gcm",
  )
    .Authorization;
  const targets: { path: string; bodies: Buffer[] }[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const res = await fetch(`http://127.0.0.1:${ready.controlPort}/push/subscriptions`, {
      method: "POST",
      body: JSON.stringify({ behaviour: "accept" }),
    });
    const sub = await res.json() as { endpoint: string; keys: { p256dh: string; auth: string } };
    const bodies = Array.from({ length: 4 }, (_, n) => {
      const payload = JSON.stringify({
        title: "Sale",
        body: `Up to 50% off, item ${i}-${n}`,
        url: "https://example.com/s",
        icon: "/i.png",
      });
      return webpush.encrypt(sub.keys.p256dh, sub.keys.auth, payload, "aes128gcm").cipherText;
    });
    targets.push({ path: new URL(sub.endpoint).pathname, bodies });
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const send = (n: number) =>
    new Promise<number>((resolve, reject) => {
      const target = targets[n % targets.length]!;
      const body = target.bodies[Math.floor(n / targets.length) % target.bodies.length]!;
      const req = http.request({
        host: "127.0.0.1",
        port: ready.port,
        path: target.path,
        method: "POST",
        agent,
        headers: {
          ttl: "3600",
          "content-encoding": "aes128gcm",
          "content-type": "application/octet-stream",
          "content-length": body.length,
          authorization,
          "x-sendgate-id": `bench-${n}`,
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
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (issued < TOTAL && performance.now() < deadline) {
      const status = await send(issued++);
      if (status !== 201) throw new Error(`push answered ${status}`);
      accepted++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();

  child.send("stats");
  const stats = await next<Stats>();
  child.send("close");
  await new Promise((resolve) => child.once("exit", resolve));
  if (stats.total !== accepted || stats.accepted !== accepted || stats.protocolErrors !== 0) {
    throw new Error(`sent ${accepted}, server recorded ${JSON.stringify(stats)}`);
  }
  return { messages: accepted, seconds };
}
