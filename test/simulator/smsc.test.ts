import { Buffer } from "node:buffer";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { connect as connectTcp } from "node:net";
import { connect, type PDU, type Session } from "smpp";
import { afterEach, describe, expect, it } from "vitest";
import { SimulatorContext } from "../../apps/simulator/src/context.ts";
import type { LedgerEntry } from "../../apps/simulator/src/ledger.ts";
import { smsMagic, smsOutcomes } from "../../apps/simulator/src/index.ts";
import { Scenario, type ScenarioInput } from "../../apps/simulator/src/scenario.ts";
import { signCallback, verifyCallback } from "../../apps/simulator/src/smpp/callback.ts";
import { parseReceipt } from "../../apps/simulator/src/smpp/receipt.ts";
import { type RunningSmsc, startSmsc } from "../../apps/simulator/src/smpp/server.ts";

// Everything here talks to the SMSC over real sockets on 127.0.0.1 with the smpp package's own
// client, as a gateway would. A fresh SMSC per test; all of them closed after each.

const running: { ctx: SimulatorContext; smsc: RunningSmsc; sessions: Session[] }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    for (const s of r.sessions) s.destroy();
    await r.smsc.close();
    r.ctx.close();
  }
});

async function start(input: ScenarioInput = {}) {
  const ctx = new SimulatorContext(Scenario.parse({ timeScale: 10_000, ...input }));
  const smsc = await startSmsc(ctx, { host: "127.0.0.1", port: 0 });
  const sessions: Session[] = [];
  running.push({ ctx, smsc, sessions });

  /** A connected client session with its received deliver_sm (each answered with deliver_sm_resp). */
  async function open(respond: (pdu: PDU, n: number) => number = () => 0) {
    const session = connect({ host: "127.0.0.1", port: smsc.port });
    sessions.push(session);
    session.on("error", () => {});
    const receipts: PDU[] = [];
    session.on("deliver_sm", (pdu: PDU) => {
      const status = respond(pdu, receipts.length);
      receipts.push(pdu);
      session.send(pdu.response(status ? { command_status: status } : {}));
    });
    let closed = false;
    session.on("close", () => (closed = true));
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
      session.once("close", () => reject(new Error("closed before connecting")));
    });
    return { session, receipts, closed: () => closed };
  }

  async function bound(
    mode: "transceiver" | "transmitter" | "receiver" = "transceiver",
    systemId = "sendgate",
  ) {
    const client = await open();
    const resp = await call(client.session, `bind_${mode}`, {
      system_id: systemId,
      password: "secret",
    });
    expect(resp?.command_status).toBe(0);
    return client;
  }

  return { ctx, smsc, open, bound };
}

type CommandName =
  | "bind_transceiver"
  | "bind_transmitter"
  | "bind_receiver"
  | "submit_sm"
  | "enquire_link"
  | "unbind";

/** Sends a PDU; its response, or null when none came within `timeoutMs`. */
function call(
  session: Session,
  command: CommandName,
  fields: Record<string, unknown> = {},
  timeoutMs = 2_000,
) {
  return new Promise<PDU | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    session[command](fields, (pdu: PDU) => {
      clearTimeout(timer);
      resolve(pdu);
    });
  });
}

const submit = (
  session: Session,
  to: string,
  extra: Record<string, unknown> = {},
  timeoutMs?: number,
) =>
  call(
    session,
    "submit_sm",
    {
      source_addr: "Sendgate",
      source_addr_ton: 5,
      destination_addr: to,
      registered_delivery: 1,
      short_message: "Your code is 123456, valid 10 min",
      ...extra,
    },
    timeoutMs,
  );

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const receiptOf = (pdu: PDU) =>
  parseReceipt((pdu.short_message as { message: string }).message, pdu as never);
const magic = (outcome: string) =>
  `+155500000${Object.entries(smsMagic).find(([, o]) => o === outcome)![0]}`;

describe("binds", () => {
  it("accepts the three bind kinds and refuses a wrong password or an unknown system_id", async () => {
    const { smsc, open } = await start();
    for (const mode of ["transceiver", "transmitter", "receiver"] as const) {
      const { session } = await open();
      const resp = await call(session, `bind_${mode}`, {
        system_id: "sendgate",
        password: "secret",
      });
      expect(resp).toMatchObject({
        command: `bind_${mode}_resp`,
        command_status: 0,
        system_id: "sendgate-sim",
      });
    }
    const wrong = await call((await open()).session, "bind_transceiver", {
      system_id: "sendgate",
      password: "nope",
    });
    expect(wrong).toMatchObject({ command: "bind_transceiver_resp", command_status: 0x0e });
    const unknown = await call((await open()).session, "bind_transmitter", {
      system_id: "stranger",
      password: "secret",
    });
    expect(unknown?.command_status).toBe(0x0f);
    expect(smsc.binds).toBe(3);
    expect(smsc.bindsRefused).toBe(2);
    expect(smsc.activeBinds).toBe(3);
  });

  it("refuses submit_sm before a bind and on a receiver bind", async () => {
    const { smsc, open, bound } = await start();
    expect((await submit((await open()).session, "+15550000000"))?.command_status).toBe(0x04);
    expect((await submit((await bound("receiver")).session, "+15550000000"))?.command_status).toBe(
      0x04,
    );
    expect(smsc.protocolErrors).toBe(2);
  });

  it("answers enquire_link, and unbind with unbind_resp before closing", async () => {
    const { open, bound } = await start();
    expect((await call((await open()).session, "enquire_link"))?.command).toBe("enquire_link_resp");
    const client = await bound();
    expect((await call(client.session, "enquire_link"))?.command).toBe("enquire_link_resp");
    expect((await call(client.session, "unbind"))?.command).toBe("unbind_resp");
    await waitFor("the SMSC to close", client.closed);
  });
});

describe("outcomes and receipts", () => {
  const plan: Record<string, { status: number; receipt?: [string, string] }> = {
    delivered: { status: 0, receipt: ["DELIVRD", "000"] },
    enrouteDelivered: { status: 0, receipt: ["DELIVRD", "000"] },
    acceptedNoReceipt: { status: 0 },
    invalidDestination: { status: 0x0b },
    throttled: { status: 0x58 },
    queueFull: { status: 0x14 },
    systemError: { status: 0x08 },
    submitFailed: { status: 0x45 },
    noResponse: { status: -1 },
    unknownSubscriber: { status: 0, receipt: ["UNDELIV", "001"] },
    absentSubscriber: { status: 0, receipt: ["UNDELIV", "027"] },
    expired: { status: 0, receipt: ["EXPIRED", "000"] },
    rejected: { status: 0, receipt: ["REJECTD", "000"] },
    deleted: { status: 0, receipt: ["DELETED", "000"] },
    unknown: { status: 0, receipt: ["UNKNOWN", "000"] },
  };

  it("answers each outcome's status and sends receipts that match the returned ids", async () => {
    expect(Object.keys(plan).sort()).toEqual(Object.keys(smsOutcomes).sort());
    const { ctx, bound } = await start();
    const { session, receipts } = await bound();
    const ids = new Map<string, string>();
    await Promise.all(
      Object.entries(plan).map(async ([outcome, { status }]) => {
        const to = magic(outcome);
        const resp = await submit(
          session,
          to,
          { user_message_reference: 4242 },
          status === -1 ? 300 : 2_000,
        );
        if (status === -1) return expect(resp).toBeNull();
        expect(resp?.command_status, outcome).toBe(status);
        if (status === 0) {
          expect(resp?.message_id).toMatch(/^[0-9a-f]+$/u);
          ids.set(to, resp!.message_id as string);
        } else {
          expect(resp?.command_length, "an error answer is a bare header (SMPP 3.4 §4.4.2)").toBe(
            16,
          );
        }
      }),
    );
    const finals = Object.values(plan).filter((p) => p.receipt).length;
    await waitFor(
      "the receipts",
      () => receipts.filter((r) => r.esm_class === 0x04).length === finals,
    );
    await sleep(50); // nothing else may follow

    for (const [outcome, { receipt }] of Object.entries(plan)) {
      const to = magic(outcome);
      const mine = receipts.filter((r) => r.source_addr === to);
      const [entry] = ctx.ledger.since(0).filter((e) => e.recipient === to);
      expect(entry, outcome).toMatchObject({
        outcome,
        decidedBy: "magic",
        expected: smsOutcomes[outcome as keyof typeof smsOutcomes].expected,
      });
      expect(entry!.extra).toMatchObject({ reference: 4242, systemId: "sendgate" });
      if (!receipt) {
        expect(mine, outcome).toEqual([]);
        expect(entry!.async).toBeUndefined();
        continue;
      }
      const final = mine.at(-1)!;
      expect(final.esm_class).toBe(0x04);
      expect(final.destination_addr).toBe("Sendgate");
      const parsed = receiptOf(final)!;
      expect(parsed).toMatchObject({
        id: ids.get(to),
        stat: receipt[0],
        err: receipt[1],
        final: true,
        text: "Your code is 123456,",
      });
      expect(parsed.textId).toBeUndefined(); // text id and receipted_message_id agree
      expect(entry!.id).toBe(ids.get(to));
      expect(entry!.async).toMatchObject({
        kind: "receipt",
        detail: { stat: receipt[0], err: receipt[1] },
      });
      expect(entry!.async!.sentAt).toBeTruthy();
      if (outcome === "enrouteDelivered") {
        expect(mine).toHaveLength(2);
        expect(mine[0]!.esm_class).toBe(0x20);
        expect(receiptOf(mine[0]!)).toMatchObject({
          id: ids.get(to),
          stat: "ENROUTE",
          final: false,
        });
        expect(mine[0]!.message_state).toBe(1);
      } else {
        expect(mine).toHaveLength(1);
      }
    }
    const noResponse = ctx.ledger.since(0).find((e) => e.outcome === "noResponse")!;
    expect(noResponse.sync).toEqual({ none: "no submit_sm_resp" });
  });

  it("sends no receipt unless registered_delivery asks, and says so in the ledger", async () => {
    const { ctx, bound } = await start();
    const { session, receipts } = await bound();
    expect((await submit(session, "+15550000100", { registered_delivery: 0 }))?.command_status)
      .toBe(0);
    // 2: failures only, so nothing for a delivered message, a receipt for an unknown subscriber.
    expect((await submit(session, "+15550000200", { registered_delivery: 2 }))?.command_status)
      .toBe(0);
    expect((await submit(session, "+15550000203", { registered_delivery: 2 }))?.command_status)
      .toBe(0);
    await waitFor("the failure receipt", () => receipts.length === 1);
    await sleep(50);
    expect(receipts.map((r) => receiptOf(r)?.stat)).toEqual(["UNDELIV"]);
    const [none, successOnly] = ctx.ledger.since(0);
    expect(none!.async!.detail.skipped).toMatch(/registered_delivery 0x00/u);
    expect(successOnly!.async!.detail.skipped).toMatch(/registered_delivery 0x02/u);
    expect(none!.async!.sentAt).toBeUndefined();
  });

  it("sends receipts to a receiver bind of the same system_id, in decimal ids when asked", async () => {
    const { bound } = await start({ sms: { idFormat: "decimal" } });
    const transmitter = await bound("transmitter");
    const receiver = await bound("receiver");
    const resp = await submit(transmitter.session, "0015550000000");
    expect(resp?.message_id).toMatch(/^\d+$/u);
    await waitFor("the receipt", () => receiver.receipts.length === 1);
    expect(receiptOf(receiver.receipts[0]!)).toMatchObject({
      id: resp!.message_id,
      stat: "DELIVRD",
    });
    expect(transmitter.receipts).toEqual([]);
  });

  it("sends a receipt again when the ESME answers deliver_sm_resp with an error", async () => {
    const { ctx, open } = await start();
    const client = await open((_pdu, n) => (n === 0 ? 0x08 : 0));
    expect(
      (await call(client.session, "bind_transceiver", {
        system_id: "sendgate",
        password: "secret",
      }))?.command_status,
    ).toBe(0);
    const resp = await submit(client.session, "+15550000000");
    await waitFor("the second delivery", () => client.receipts.length === 2);
    expect(client.receipts.map((r) => receiptOf(r)?.id)).toEqual([
      resp!.message_id,
      resp!.message_id,
    ]);
    expect(ctx.ledger.get(resp!.message_id as string)[0]!.async!.detail).toMatchObject({
      deliverSmRespStatus: 0x08,
      deliverSmAttempts: 2,
    });
  });

  it("refuses a destination that is not a phone number", async () => {
    const { ctx, bound } = await start();
    const { session } = await bound();
    expect((await submit(session, "Sendgate", { dest_addr_ton: 5 }))?.command_status).toBe(0x0b);
    expect(ctx.ledger.since(0)[0]).toMatchObject({
      outcome: "invalidDestination",
      decidedBy: "protocol",
    });
  });
});

describe("throughput limit", () => {
  it("answers ESME_RTHROTTLED above throughputPerBind, whatever the outcome", async () => {
    const { ctx, bound } = await start({ sms: { throughputPerBind: 5 } });
    const { session } = await bound();
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => submit(session, `+3361000${String(i).padStart(4, "0")}`),
      ),
    );
    const statuses = answers.map((a) => a?.command_status);
    expect(statuses.filter((s) => s === 0).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 0).length).toBeLessThanOrEqual(7); // a slow machine may refill one or two
    expect(statuses.filter((s) => s === 0x58).length).toBeGreaterThanOrEqual(13);
    const throttled = ctx.ledger.since(0).filter((e) => e.outcome === "throttled");
    expect(throttled.length).toBe(statuses.filter((s) => s === 0x58).length);
    expect(throttled.every((e) => e.decidedBy === "protocol" && e.sync.commandStatus === 0x58))
      .toBe(true);
    // The bucket refills: a second later the bind may send again.
    await sleep(1_100);
    expect((await submit(session, "+33610009999"))?.command_status).toBe(0);
  });
});

describe("HTTP callback receipts", () => {
  it("POSTs signed receipts, retrying after a failure", async () => {
    const hits: { headers: IncomingMessage["headers"]; body: string }[] = [];
    const http = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        hits.push({ headers: req.headers, body });
        res.writeHead(hits.length === 1 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/receipts`;
      const secret = "callback-secret";
      const { ctx, bound } = await start({ sms: { receipts: { mode: "http", url, secret } } });
      const { session, receipts } = await bound();
      const resp = await submit(session, "+15550000003", { user_message_reference: 77 });
      await waitFor("two callbacks", () => hits.length === 2);
      await waitFor("the ledger", () => Boolean(ctx.ledger.since(0)[0]!.async?.sentAt));
      for (const hit of hits) {
        const timestamp = hit.headers["x-sendgate-timestamp"] as string;
        expect(hit.headers["x-sendgate-signature"]).toBe(signCallback(secret, timestamp, hit.body));
        expect(
          verifyCallback(secret, {
            signature: hit.headers["x-sendgate-signature"] as string,
            timestamp,
          }, hit.body),
        ).toBe(true);
        expect(
          verifyCallback("wrong-secret", {
            signature: hit.headers["x-sendgate-signature"] as string,
            timestamp,
          }, hit.body),
        ).toBe(false);
        // A replay an hour later fails, and so does a timestamp changed to look fresh.
        expect(
          verifyCallback(
            secret,
            { signature: hit.headers["x-sendgate-signature"] as string, timestamp },
            hit.body,
            { now: Date.now() + 3_600_000 },
          ),
        ).toBe(false);
        expect(
          verifyCallback(secret, {
            signature: hit.headers["x-sendgate-signature"] as string,
            timestamp: String(Number(timestamp) + 1),
          }, hit.body),
        ).toBe(false);
      }
      expect(hits[1]!.body).toBe(hits[0]!.body);
      expect(JSON.parse(hits[1]!.body)).toMatchObject({
        messageId: resp!.message_id,
        stat: "UNDELIV",
        err: "001",
        reference: 77,
        text: "Your code is 123456,",
      });
      const entry = ctx.ledger.get(resp!.message_id as string)[0]!;
      expect(entry.async!.detail.callbacks).toEqual([
        { stat: "UNDELIV", attempt: 1, ok: false, status: 503, error: "HTTP 503" },
        { stat: "UNDELIV", attempt: 2, status: 204 },
      ]);
      expect(receipts).toEqual([]);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("gives up after four attempts", async () => {
    const { ctx, bound } = await start({
      sms: {
        receipts: { mode: "http", url: "http://127.0.0.1:9/none", secret: "callback-secret" },
      },
    });
    const { session } = await bound();
    await submit(session, "+15550000000");
    await waitFor(
      "the last attempt",
      () => Boolean(ctx.ledger.since(0)[0]!.async?.detail.givenUp),
      10_000,
    );
    expect(ctx.ledger.since(0)[0]!.async!.detail.callbacks).toHaveLength(4);
    expect(ctx.ledger.since(0)[0]!.async!.sentAt).toBeUndefined();
  });
});

describe("long messages", () => {
  const text =
    "This message is longer than one SMS can carry, so it travels in three parts of text here.";
  const chunks = [text.slice(0, 30), text.slice(30, 60), text.slice(60)];

  /** Sends the three parts with `header(seq)`: submit_sm fields and a UDH to put before the text. */
  async function sendParts(
    session: Session,
    to: string,
    header: (seq: number) => { fields: Record<string, unknown>; udh?: Buffer },
  ) {
    const ids: string[] = [];
    for (const [i, chunk] of chunks.entries()) {
      const { fields, udh } = header(i + 1);
      const short_message = Buffer.concat([udh ?? Buffer.alloc(0), Buffer.from(chunk)]);
      const resp = await submit(session, to, { data_coding: 0, ...fields, short_message });
      expect(resp?.command_status).toBe(0);
      ids.push(resp!.message_id as string);
    }
    return ids;
  }

  const ways: [string, (seq: number) => { fields: Record<string, unknown>; udh?: Buffer }][] = [
    [
      "udh8",
      (seq) => ({
        fields: { esm_class: 0x40 },
        udh: Buffer.from([0x05, 0x00, 0x03, 0x7b, 3, seq]),
      }),
    ],
    [
      "udh16",
      (seq) => ({
        fields: { esm_class: 0x40 },
        udh: Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 3, seq]),
      }),
    ],
    [
      "sar",
      (seq) => ({
        fields: { sar_msg_ref_num: 0x4321, sar_total_segments: 3, sar_segment_seqnum: seq },
      }),
    ],
  ];
  for (const [how, header] of ways) {
    it(`reassembles parts by ${how}: one ledger entry, one receipt`, async () => {
      const { ctx, bound } = await start();
      const { session, receipts } = await bound();
      const ids = await sendParts(session, "+15550000000", header);
      expect(new Set(ids).size).toBe(3);
      await waitFor("the receipt", () => receipts.length === 1);
      await sleep(50);
      expect(receipts).toHaveLength(1);
      // The receipt carries the message id returned for the first part.
      expect(receiptOf(receipts[0]!)).toMatchObject({
        id: ids[0],
        stat: "DELIVRD",
        text: text.slice(0, 20),
      });
      const entries = ctx.ledger.since(0);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        id: ids[0],
        outcome: "delivered",
        extra: { parts: 3, partsReceived: 3, partIds: ids, concat: how },
      });
    });
  }

  it("answers every part of a refused message with the same error, in one ledger entry", async () => {
    const { ctx, bound } = await start();
    const { session, receipts } = await bound();
    for (const seq of [1, 2]) {
      const resp = await submit(session, "+15550000001", {
        sar_msg_ref_num: 9,
        sar_total_segments: 2,
        sar_segment_seqnum: seq,
      });
      expect(resp?.command_status).toBe(0x0b);
    }
    expect(ctx.ledger.size).toBe(1);
    expect(ctx.ledger.since(0)[0]!.extra).toMatchObject({ parts: 2, partsReceived: 2 });
    // The gateway starts over with the same reference: a new message.
    await submit(session, "+15550000001", {
      sar_msg_ref_num: 9,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    });
    expect(ctx.ledger.size).toBe(2);
    expect(receipts).toEqual([]);
  });
});

describe("malformed input", () => {
  async function raw(port: number) {
    const socket = connectTcp({ host: "127.0.0.1", port });
    const received: Buffer[] = [];
    let closed = false;
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("close", () => (closed = true));
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    return { socket, bytes: () => Buffer.concat(received), closed: () => closed };
  }

  const header = (length: number, id: number, status: number, seq: number) => {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(length, 0);
    b.writeUInt32BE(id, 4);
    b.writeUInt32BE(status, 8);
    b.writeUInt32BE(seq, 12);
    return b;
  };

  it("answers garbage and absurd lengths with generic_nack ESME_RINVCMDLEN and hangs up", async () => {
    const { smsc, bound } = await start();
    const cases: [string, Buffer][] = [
      ["HTTP", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      ["4 GiB", header(0xffffffff, 4, 0, 5)],
      ["too short", Buffer.from([0, 0, 0, 8, 1, 2, 3, 4])],
    ];
    for (const [name, bytes] of cases) {
      const c = await raw(smsc.port);
      c.socket.write(bytes);
      await waitFor(`the SMSC to hang up (${name})`, c.closed);
      const nack = c.bytes();
      expect(nack.length, name).toBe(16);
      expect(nack.readUInt32BE(4), name).toBe(0x80000000);
      expect(nack.readUInt32BE(8), name).toBe(0x02);
    }
    expect(smsc.protocolErrors).toBe(3);
    // Still serving.
    await bound();
  });

  it("answers an unknown command id with ESME_RINVCMDID and a truncated body with ESME_RINVCMDLEN, keeping the link", async () => {
    const { smsc } = await start();
    const c = await raw(smsc.port);
    c.socket.write(Buffer.concat([header(20, 0x00000999, 0, 41), Buffer.from([1, 2, 3, 4])]));
    c.socket.write(Buffer.concat([header(19, 0x00000004, 0, 42), Buffer.from([0, 1, 1])])); // submit_sm cut short
    c.socket.write(header(16, 0x00000015, 0, 43)); // enquire_link
    await waitFor("three answers", () => c.bytes().length >= 48);
    const b = c.bytes();
    expect([b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)]).toEqual([
      0x80000000,
      0x03,
      41,
    ]);
    expect([b.readUInt32BE(20), b.readUInt32BE(24), b.readUInt32BE(28)]).toEqual([
      0x80000000,
      0x02,
      42,
    ]);
    expect([b.readUInt32BE(36), b.readUInt32BE(40), b.readUInt32BE(44)]).toEqual([
      0x80000015,
      0x00,
      43,
    ]);
    expect(c.closed()).toBe(false);
    c.socket.destroy();
  });

  it("survives a PDU split across many writes", async () => {
    const { smsc, bound } = await start();
    const { session } = await bound();
    // A bind split byte by byte on a raw socket.
    const c = await raw(smsc.port);
    const body = Buffer.from("sendgate\0secret\0\0\x34\0\0\0", "latin1");
    const pdu = Buffer.concat([header(16 + body.length, 0x00000009, 0, 1), body]);
    for (const byte of pdu) {
      c.socket.write(Buffer.from([byte]));
      await sleep(1);
    }
    await waitFor("bind_transceiver_resp", () => c.bytes().length >= 16);
    expect(c.bytes().readUInt32BE(8)).toBe(0);
    expect((await submit(session, "+15550000000"))?.command_status).toBe(0);
  });
});

describe("faults", () => {
  // Fault windows in simulated time from the context's start; timeScale 1 keeps them readable.
  async function withFault(
    kind: "drop" | "stall" | "refuse" | "restart",
    durationMs: number,
    input: ScenarioInput = {},
  ) {
    const sim = await start({ timeScale: 1, ...input });
    const setFault = (inMs: number) =>
      sim.ctx.setScenario({
        ...sim.ctx.scenario,
        sms: {
          ...sim.ctx.scenario.sms,
          faults: [{ atMs: sim.ctx.scheduler.elapsed() + inMs, durationMs, kind }],
        },
      });
    return { ...sim, setFault };
  }

  it("drop: closes every link, and new ones, until the window ends", async () => {
    const { open, bound, setFault } = await withFault("drop", 400);
    const client = await bound();
    setFault(30);
    await waitFor("the drop", client.closed, 2_000);
    // A new link is cut at once (whether the client saw it open or not).
    const cut = await open().then(
      (c) => waitFor("a cut link", c.closed, 1_000).then(() => "cut"),
      (error: Error) => error.message,
    );
    expect(["cut", "closed before connecting"]).toContain(cut);
    await sleep(450);
    const again = await bound();
    expect((await submit(again.session, "+15550000000"))?.command_status).toBe(0);
  });

  it("stall: answers nothing during the window, records the submits as unanswered", async () => {
    const { ctx, bound, setFault } = await withFault("stall", 400);
    const { session } = await bound();
    setFault(0);
    expect(await submit(session, "+15550000000", {}, 150)).toBeNull();
    expect(await call(session, "enquire_link", {}, 100)).toBeNull();
    expect(ctx.ledger.since(0)[0]).toMatchObject({
      outcome: "noResponse",
      decidedBy: "protocol",
      sync: { none: "stall" },
    });
    await sleep(300);
    expect((await submit(session, "+15550000000"))?.command_status).toBe(0);
  });

  it("refuse: binds get ESME_RBINDFAIL, existing binds go on", async () => {
    const { smsc, open, bound, setFault } = await withFault("refuse", 300);
    const existing = await bound();
    setFault(0);
    const refused = await call((await open()).session, "bind_transceiver", {
      system_id: "sendgate",
      password: "secret",
    });
    expect(refused?.command_status).toBe(0x0d);
    expect((await submit(existing.session, "+15550000000"))?.command_status).toBe(0);
    expect(smsc.bindsRefused).toBe(1);
    await sleep(350);
    await bound();
  });

  it("restart: closes the listener and every link, comes back, and delivers the receipts held meanwhile", async () => {
    const { open, bound, setFault } = await withFault("restart", 400, {
      sms: { asyncDelay: { minMs: 200, maxMs: 200 } },
    });
    const client = await bound();
    const resp = await submit(client.session, "+15550000000");
    setFault(50);
    await waitFor("the restart", client.closed, 2_000);
    await expect(open()).rejects.toThrow(); // ECONNREFUSED while down
    await sleep(450);
    // The listener comes back on the SMSC's next fault poll (every 10 ms).
    let again: Awaited<ReturnType<typeof bound>> | undefined;
    for (let tries = 0; !again && tries < 20; tries++) {
      again = await bound().catch(() => sleep(50).then(() => undefined));
    }
    await waitFor("the held receipt", () => again!.receipts.length === 1, 2_000);
    expect(receiptOf(again!.receipts[0]!)?.id).toBe(resp!.message_id);
  });
});

describe("determinism", () => {
  const input: ScenarioInput = {
    seed: 7,
    sms: {
      mix: {
        delivered: 4,
        enrouteDelivered: 1,
        unknownSubscriber: 1,
        absentSubscriber: 1,
        expired: 1,
        invalidDestination: 1,
        acceptedNoReceipt: 1,
        noResponse: 1,
      },
      latency: { minMs: 0, maxMs: 3 },
    },
  };

  async function run() {
    const { ctx, bound } = await start(input);
    const { session, receipts } = await bound();
    // Forty submits to thirty numbers (some twice: the draw also depends on the occurrence).
    const numbers = Array.from(
      { length: 40 },
      (_, i) => `+3361000${String(i % 30).padStart(4, "0")}`,
    );
    const answers = await Promise.all(numbers.map((n) => submit(session, n, {}, 300)));
    const expectedReceipts =
      ctx.ledger.since(0).filter((e) => e.async && !e.async.detail.skipped).length;
    await waitFor(
      "every receipt",
      () => ctx.ledger.since(0).every((e) => !e.async || e.async.sentAt),
    );
    await waitFor(
      "every receipt to arrive",
      () => receipts.filter((r) => r.esm_class === 0x04).length === expectedReceipts,
    );
    const strip = ({ id: _id, receivedAt: _r, async, extra, ...rest }: LedgerEntry) => ({
      ...rest,
      extra,
      async: async &&
        { kind: async.kind, detail: { ...async.detail, intermediateSentAt: undefined } },
    });
    return {
      ledger: ctx.ledger.since(0).map(strip),
      statuses: answers.map((a) => a?.command_status ?? null),
    };
  }

  it("gives the same ledger for the same seed", async () => {
    const first = await run();
    const second = await run();
    expect(second.ledger).toEqual(first.ledger);
    expect(second.statuses).toEqual(first.statuses);
    expect(new Set(first.ledger.map((e) => e.outcome)).size).toBeGreaterThan(3);
  });
});
