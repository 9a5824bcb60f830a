// The SMPP client against the simulator's SMSC on loopback (binds, window, timeouts, throttling,
// dropped links, receipts), and against a raw TCP fake SMSC for what the simulator never does
// (malformed PDUs, unknown commands, an unbind from the SMSC, holding a deliver_sm_resp).
import { Buffer } from "node:buffer";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Scenario, SimulatorContext } from "@sendgate/simulator";
import type { ScenarioInput } from "../../../../apps/simulator/src/scenario.ts";
import { type RunningSmsc, startSmsc } from "../../../../apps/simulator/src/smpp/server.ts";
import {
  commandId,
  decodeBind,
  decodeHeader,
  type DeliverSm,
  encodeBindResp,
  encodeDeliverSmPdu,
  encodeEnquireLinkResp,
  encodeHeaderOnly,
  encodeSubmitSmResp,
  encodeUnbind,
} from "./codec.ts";
import { FrameReader } from "./frames.ts";
import { parseReceipt } from "./receipt.ts";
import { SmppBind, type SmppBindOptions, type SubmitRequest } from "./smpp-client.ts";
import { decodeText, encodeGsm7 } from "./text.ts";

const LOOPBACK = "127.0.0.1";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function smsc(input: ScenarioInput = {}) {
  const ctx = new SimulatorContext(Scenario.parse({ timeScale: 10_000, ...input }));
  const server: RunningSmsc = await startSmsc(ctx, { host: LOOPBACK, port: 0 });
  cleanups.push(async () => {
    await server.close();
    ctx.close();
  });
  return { ctx, server };
}

/** A started bind with quiet logs (kept for assertions) and test-sized timers. */
function bind(port: number, options: Partial<SmppBindOptions> = {}) {
  const logs: { level: string; message: string }[] = [];
  const b = new SmppBind({
    host: LOOPBACK,
    port,
    systemId: "sendgate",
    password: "secret",
    responseTimeoutMs: 2_000,
    reconnect: { initialMs: 20, maxMs: 200 },
    log: (level, message) => logs.push({ level, message }),
    ...options,
  }).start();
  cleanups.push(() => b.close());
  return Object.assign(b, { logs });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sms = (to: string, text = "Your code is 123456"): SubmitRequest => ({
  source: "Sendgate",
  sourceTon: 5,
  destTon: 1,
  destNpi: 1,
  destination: to.replace(/^\+/u, ""),
  registeredDelivery: 1,
  dataCoding: 0,
  shortMessage: encodeGsm7(text)!,
});

describe("SmppBind against the simulator's SMSC", () => {
  it("binds, submits, and hands receipts to onDeliver before acknowledging them", async () => {
    const { server } = await smsc();
    const delivered: DeliverSm[] = [];
    const states: string[] = [];
    const b = bind(server.port, {
      onDeliver: (pdu) => {
        delivered.push(pdu);
        return Promise.resolve();
      },
      onStateChange: (s) => states.push(s),
    });
    const result = await b.submit(sms("+15550000000"));
    expect(result.kind).toBe("ok");
    expect(b.state).toBe("bound");
    expect(b.boundSince).not.toBeNull();
    expect(states).toEqual(["connecting", "bound"]);
    await waitFor("the receipt", () => delivered.length === 1);
    const receipt = parseReceipt(decodeText(delivered[0]!.shortMessage, 0), {
      receipted_message_id: delivered[0]!.receiptedMessageId,
      message_state: delivered[0]!.messageState,
    });
    expect(receipt).toMatchObject({
      id: (result as { messageId: string }).messageId,
      stat: "DELIVRD",
      final: true,
    });
    expect(b.counters).toMatchObject({ submitted: 1, accepted: 1, delivered: 1 });
  });

  it("answers each submit status the SMSC gives", async () => {
    const { server } = await smsc();
    const b = bind(server.port, { throttleTries: 1 });
    const results = await Promise.all(
      ["01", "02", "10", "11", "13"].map((n) => b.submit(sms(`+155500000${n}`))),
    );
    expect(results).toEqual([
      { kind: "error", commandStatus: 0x0b },
      { kind: "error", commandStatus: 0x58 },
      { kind: "error", commandStatus: 0x14 },
      { kind: "error", commandStatus: 0x08 },
      { kind: "error", commandStatus: 0x45 },
    ]);
  });

  it("backs off at the longest delay when the bind is refused, and says why", async () => {
    const { server } = await smsc();
    const b = bind(server.port, { password: "wrong", reconnect: { initialMs: 10, maxMs: 60_000 } });
    await waitFor("the refusal", () => b.counters.bindsRefused === 1);
    await waitFor("back-off", () => b.state === "backoff");
    expect(b.lastError).toMatchObject({ kind: "bindRefused", commandStatus: 0x0e });
    await new Promise((r) => setTimeout(r, 300));
    expect(b.counters.bindsRefused).toBe(1);
    expect(server.bindsRefused).toBe(1);
    // Submits wait for a bind rather than fail; close settles them as never written.
    const waiting = b.submit(sms("+15550000000"));
    expect(b.queued).toBe(1);
    await b.close();
    expect(await waiting).toEqual({ kind: "dropped", written: false });
    expect(b.state).toBe("closed");
  });

  it("keeps at most `window` submits outstanding", async () => {
    const { server } = await smsc({ sms: { latency: { minMs: 20, maxMs: 20 } } });
    const b = bind(server.port, { window: 5 });
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, b.inFlight)), 1);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const r = b.submit(sms(`+3361000${String(i).padStart(4, "0")}`));
        most = Math.max(most, b.inFlight);
        return r;
      }),
    );
    clearInterval(sample);
    expect(results.every((r) => r.kind === "ok")).toBe(true);
    expect(most).toBe(5);
    expect(b.inFlight).toBe(0);
  });

  it("times a submit out when the SMSC never answers, and keeps the link", async () => {
    const { server } = await smsc();
    const b = bind(server.port, { responseTimeoutMs: 300 });
    const started = Date.now();
    expect(await b.submit(sms("+15550000009"))).toEqual({ kind: "timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(b.inFlight).toBe(0);
    // The enquire_link sent on the timeout was answered: same session, still bound.
    expect((await b.submit(sms("+15550000000"))).kind).toBe("ok");
    expect(b.counters.binds).toBe(1);
    expect(b.state).toBe("bound");
  });

  it("holds its throughput cap: no throttle from an SMSC that allows a little more", async () => {
    const { server } = await smsc({ sms: { throughputPerBind: 50 } });
    const b = bind(server.port, { throughput: 40, window: 20 });
    await waitFor("the bind", () => b.state === "bound");
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => b.submit(sms(`+3362000${String(i).padStart(4, "0")}`))),
    );
    expect(results.every((r) => r.kind === "ok")).toBe(true);
    expect(b.counters.throttled).toBe(0);
    // 60 at 40 a second, the first two at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_300);
  });

  it("slows down on ESME_RTHROTTLED and re-submits instead of failing messages", async () => {
    const { server, ctx } = await smsc({ sms: { throughputPerBind: 50 } });
    const b = bind(server.port, { window: 10 });
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => b.submit(sms(`+3363000${String(i).padStart(4, "0")}`))),
    );
    expect(results.filter((r) => r.kind !== "ok")).toEqual([]);
    expect(b.counters.throttled).toBeGreaterThan(0);
    expect(b.counters.throttled).toBeLessThan(60);
    expect(b.rate).toBeLessThan(50);
    // Every message the SMSC accepted once, the throttled tries on the side.
    const accepted = ctx.ledger.since(0, 10_000).filter((e) => e.outcome === "delivered");
    expect(accepted).toHaveLength(150);
  }, 20_000);

  it("gives the status back after the last try against a throttle that never ends", async () => {
    const { server } = await smsc();
    const b = bind(server.port, { throttleTries: 3 });
    expect(await b.submit(sms("+15550000002"))).toEqual({ kind: "error", commandStatus: 0x58 });
    expect(b.counters.throttled).toBe(3);
  });

  it("settles what was in flight when the link drops, keeps the rest, and reconnects", async () => {
    const { server, ctx } = await smsc({ sms: { latency: { minMs: 400, maxMs: 400 } } });
    const b = bind(server.port, { window: 2 });
    await waitFor("the bind", () => b.state === "bound");
    const results = Array.from(
      { length: 6 },
      (_, i) => b.submit(sms(`+3364000${String(i).padStart(4, "0")}`)),
    );
    await waitFor("the window full", () => b.inFlight === 2 && b.queued === 4);
    // A drop fault now: the SMSC closes every connection.
    const at = ctx.scheduler.elapsed();
    ctx.setScenario(Scenario.parse({
      ...ctx.scenario,
      sms: { ...ctx.scenario.sms, faults: [{ atMs: at, durationMs: 0, kind: "drop" }] },
    }));
    const settled = await Promise.all(results);
    expect(settled.slice(0, 2)).toEqual([
      { kind: "dropped", written: true },
      { kind: "dropped", written: true },
    ]);
    expect(settled.slice(2).every((r) => r.kind === "ok")).toBe(true);
    expect(b.counters.binds).toBe(2);
    expect(b.lastError?.kind).toBe("closed");
  });

  it("answers ESME_RX_T_APPN when onDeliver fails, so the SMSC delivers the receipt again", async () => {
    const { server, ctx } = await smsc();
    let calls = 0;
    const b = bind(server.port, {
      onDeliver:
        () => (++calls === 1 ? Promise.reject(new Error("store down")) : Promise.resolve()),
    });
    expect((await b.submit(sms("+15550000000"))).kind).toBe("ok");
    await waitFor("the second delivery", () => b.counters.delivered === 1);
    expect(calls).toBe(2);
    expect(ctx.ledger.since(0)[0]!.async!.detail).toMatchObject({ deliverSmRespStatus: 0x64 });
  });

  it("unbinds on close after what was in flight", async () => {
    const { server } = await smsc({ sms: { latency: { minMs: 100, maxMs: 100 } } });
    const b = bind(server.port);
    await waitFor("the bind", () => server.activeBinds === 1);
    const pending = b.submit(sms("+15550000000"));
    await waitFor("the write", () => b.inFlight === 1);
    await b.close();
    expect((await pending).kind).toBe("ok");
    expect(server.activeBinds).toBe(0);
    expect(await b.submit(sms("+15550000000"))).toEqual({ kind: "dropped", written: false });
  });
});

/** A fake SMSC on a raw socket: binds whoever comes, then lets the test speak. */
async function fakeSmsc() {
  const sessions: { socket: net.Socket; frames: Buffer[] }[] = [];
  const server = net.createServer((socket) => {
    const session = { socket, frames: [] as Buffer[] };
    sessions.push(session);
    const reader = new FrameReader();
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) =>
      reader.push(chunk, (frame) => {
        const f = Buffer.from(frame);
        session.frames.push(f);
        const id = f.readUInt32BE(4);
        if (id === commandId.bindTransceiver) {
          const b = decodeBind(f);
          socket.write(encodeBindResp({
            sequence: b.sequence,
            mode: b.mode,
            status: 0,
            systemId: "fake",
          }));
        } else if (id === commandId.enquireLink) {
          socket.write(encodeEnquireLinkResp(f.readUInt32BE(12)));
        } else if (id === commandId.unbind) {
          socket.end(encodeHeaderOnly(commandId.unbindResp, 0, f.readUInt32BE(12)));
        } else if (id === commandId.submitSm) {
          socket.write(encodeSubmitSmResp(f.readUInt32BE(12), 0, "ab12"));
        }
      }));
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  cleanups.push(async () => {
    for (const s of sessions) s.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  const frameOf = (session: (typeof sessions)[number], id: number, sequence?: number) =>
    session.frames.find((f) =>
      f.readUInt32BE(4) === id && (sequence === undefined || f.readUInt32BE(12) === sequence)
    );
  return { port, sessions, frameOf };
}

describe("SmppBind against a fake SMSC", () => {
  it("acknowledges a deliver_sm only once onDeliver resolved", async () => {
    const fake = await fakeSmsc();
    let store!: () => void;
    const stored = new Promise<void>((resolve) => (store = resolve));
    const got: DeliverSm[] = [];
    const b = bind(fake.port, {
      onDeliver: (pdu) => {
        got.push(pdu);
        return stored;
      },
    });
    await waitFor("the bind", () => b.state === "bound");
    const s = fake.sessions[0]!;
    s.socket.write(encodeDeliverSmPdu({
      sequence: 77,
      source: "33612345678",
      destination: "Sendgate",
      esmClass: 0,
      shortMessage: Buffer.from("STOP"),
    }));
    await waitFor("onDeliver", () => got.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.frameOf(s, commandId.deliverSmResp, 77)).toBeUndefined();
    store();
    await waitFor("the answer", () => fake.frameOf(s, commandId.deliverSmResp, 77) !== undefined);
    expect(decodeHeader(fake.frameOf(s, commandId.deliverSmResp, 77)!).status).toBe(0);
    expect(decodeText(got[0]!.shortMessage, 0)).toBe("STOP");
  });

  it("refuses malformed and unknown PDUs by SMPP's codes and keeps the link", async () => {
    const fake = await fakeSmsc();
    const b = bind(fake.port, { onDeliver: async () => {} });
    await waitFor("the bind", () => b.state === "bound");
    const s = fake.sessions[0]!;
    // A deliver_sm cut inside its fields (its length says 30: the framing holds).
    const cut = Buffer.from(
      encodeDeliverSmPdu({
        sequence: 5,
        destination: "1",
        shortMessage: Buffer.from("hello"),
      }).subarray(0, 30),
    );
    cut.writeUInt32BE(30, 0);
    s.socket.write(cut);
    // A command nobody knows, and a response to nothing.
    s.socket.write(encodeHeaderOnly(0x00000777, 0, 6));
    s.socket.write(encodeSubmitSmResp(999, 0, "orphan"));
    await waitFor("two nacks", () =>
      fake.frameOf(s, commandId.genericNack, 5) !== undefined &&
      fake.frameOf(s, commandId.genericNack, 6) !== undefined);
    expect(decodeHeader(fake.frameOf(s, commandId.genericNack, 5)!).status).toBe(0x02);
    expect(decodeHeader(fake.frameOf(s, commandId.genericNack, 6)!).status).toBe(0x03);
    expect(b.logs.some((l) => /unknown sequence number/u.test(l.message))).toBe(true);
    expect((await b.submit(sms("+15550000000"))).kind).toBe("ok");
    expect(fake.sessions).toHaveLength(1);
  });

  it("drops the link when the framing is lost, then binds again", async () => {
    const fake = await fakeSmsc();
    const b = bind(fake.port);
    await waitFor("the bind", () => b.state === "bound");
    const s = fake.sessions[0]!;
    const bad = encodeHeaderOnly(commandId.enquireLink, 0, 41);
    bad.writeUInt32BE(8, 0); // command_length 8: nothing after it can be framed
    s.socket.write(bad);
    await waitFor("a second session", () => fake.sessions.length === 2);
    expect(decodeHeader(fake.frameOf(s, commandId.genericNack)!).status).toBe(0x02);
    expect(b.lastError?.kind).toBe("protocol");
    await waitFor("bound again", () => b.state === "bound");
  });

  it("sends enquire_link when idle, and answers the SMSC's unbind before going", async () => {
    const fake = await fakeSmsc();
    const b = bind(fake.port, { enquireLinkMs: 50 });
    await waitFor("the bind", () => b.state === "bound");
    const s = fake.sessions[0]!;
    await waitFor("enquire_link", () => fake.frameOf(s, commandId.enquireLink) !== undefined);
    s.socket.write(encodeUnbind(3));
    await waitFor("unbind_resp", () => fake.frameOf(s, commandId.unbindResp, 3) !== undefined);
    await waitFor("a second session", () => fake.sessions.length === 2);
    await waitFor("bound again", () => b.state === "bound");
  });
});
