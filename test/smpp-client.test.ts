import { Buffer } from "node:buffer";
import { afterEach, expect, it } from "vitest";
import { SmppBind, type SubmitResult } from "@sendgate/channels";
import { SimulatorContext } from "../apps/simulator/src/context.ts";
import { Scenario } from "../apps/simulator/src/scenario.ts";
import { type RunningSmsc, startSmsc } from "../apps/simulator/src/smpp/server.ts";
import { until } from "./support/dispatch.ts";

// The SMPP client against the simulator's SMSC on loopback: its window, response timeouts,
// throttling, a refused bind, and a link dropped with messages in flight, then the reconnect.

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function smsc(scenario: unknown): Promise<RunningSmsc> {
  const ctx = new SimulatorContext(Scenario.parse(scenario));
  const server = await startSmsc(ctx, { host: "127.0.0.1", port: 0 });
  open.push({ close: () => ctx.close() }, server);
  return server;
}

function bind(port: number, options: Partial<ConstructorParameters<typeof SmppBind>[0]> = {}) {
  const b = new SmppBind({
    host: "127.0.0.1",
    port,
    systemId: "sendgate",
    password: "secret",
    reconnect: { initialMs: 50, maxMs: 200 },
    onDeliver: () => Promise.resolve(),
    log: () => {},
    ...options,
  }).start();
  open.push(b);
  return b;
}

const text = Buffer.from("Hello", "latin1");
const submit = (b: SmppBind, destination: string): Promise<SubmitResult> =>
  b.submit({
    destination,
    source: "Shop",
    sourceTon: 5,
    shortMessage: text,
    registeredDelivery: 1,
  });

it("keeps at most its window of submit_sm outstanding, and every one is answered", async () => {
  const server = await smsc({ sms: { latency: { minMs: 100, maxMs: 100 } } });
  const b = bind(server.port, { window: 5 });
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, b.inFlight)), 2);
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => submit(b, `4470000${String(i).padStart(4, "0")}`)),
  ).finally(() => clearInterval(watch));
  expect(results.every((r) => r.kind === "ok")).toBe(true);
  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(5);
});

it("settles a submit that gets no response as a timeout", async () => {
  const server = await smsc({});
  const b = bind(server.port, { responseTimeoutMs: 300 });
  // +1555…09: the simulator never answers this one.
  expect(await submit(b, "15550000109")).toEqual({ kind: "timeout" });
  expect(await submit(b, "15550000100")).toMatchObject({ kind: "ok" });
});

it("slows down on ESME_RTHROTTLED and sends the same messages again, failing none", async () => {
  const server = await smsc({ sms: { throughputPerBind: 200 } });
  const b = bind(server.port, { window: 50, throttleTries: 20 });
  const results = await Promise.all(
    Array.from({ length: 400 }, (_, i) => submit(b, `4471000${String(i).padStart(4, "0")}`)),
  );
  expect(results.filter((r) => r.kind !== "ok")).toEqual([]);
  expect(b.counters.throttled).toBeGreaterThan(0);
}, 30_000);

it("reports a refused bind and keeps trying, without crashing", async () => {
  const server = await smsc({});
  const b = bind(server.port, { password: "wrong" });
  await until("refused", () => Promise.resolve(b.lastError), (e) => e?.kind === "bindRefused");
  expect(b.state).not.toBe("bound");
  expect(server.bindsRefused).toBeGreaterThan(0);
});

it("settles what was in flight when the link drops, then reconnects and sends again", async () => {
  // Responses take 2 s; the SMSC drops every connection 500 ms after it started.
  const server = await smsc({
    sms: { latency: { minMs: 2_000, maxMs: 2_000 }, faults: [{ atMs: 500, kind: "drop" }] },
  });
  const b = bind(server.port, { window: 10 });
  await until("bound", () => Promise.resolve(b.state), (s) => s === "bound");
  const inFlight = await Promise.all(
    Array.from({ length: 5 }, (_, i) => submit(b, `4472000000${i}`)),
  );
  expect(inFlight.every((r) => r.kind === "dropped" && r.written)).toBe(true);
  await until("bound again", () => Promise.resolve(b.state), (s) => s === "bound", 10_000);
  expect(server.binds).toBeGreaterThanOrEqual(2);
  expect(await submit(b, "44720000099")).toMatchObject({ kind: "ok" });
}, 30_000);
