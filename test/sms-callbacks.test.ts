import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { connect, type PDU } from "smpp";
import { beforeAll, expect, it } from "vitest";
import { compileRules } from "@sendgate/core";
import type { OutgoingMessage, SendOutcome } from "@sendgate/channels";
import { signCallback } from "@sendgate/channels";
import { loadRuleSet, syncShippedRules } from "../apps/gateway/src/services/rules.ts";
import { applyReports, storeReports } from "../apps/gateway/src/services/sms-reports.ts";
import { SimulatorContext } from "../apps/simulator/src/context.ts";
import { Scenario } from "../apps/simulator/src/scenario.ts";
import { startSmsc } from "../apps/simulator/src/smpp/server.ts";
import { describeBackends, type TestResponse } from "./support/harness.ts";
import { dispatcher, until } from "./support/dispatch.ts";

// Provider HTTP callbacks (POST /v1/callbacks/sms/{provider}): signed, fresh, never replayed,
// in the formats of docs/sms-callbacks.md; every refusal recorded; a report stored before the
// 200, and counted once however many times it comes (by callback or by SMPP).

const SECRET = "callback-secret-0123456789";
const seconds = () => Math.floor(Date.now() / 1000);

describeBackends("sms callbacks", (s) => {
  let history: { once: unknown; after: unknown } | undefined;
  const provider = (id: string, extra: Record<string, unknown> = {}) =>
    s().call("PUT", `/v1/sms/providers/${id}`, {
      json: { host: "127.0.0.1", port: 2775, systemId: "gw", password: "pw", ...extra },
    });

  beforeAll(async () => {
    expect((await provider("acme", { callbackSecret: SECRET })).status).toBe(200);
    expect((await provider("mute")).status).toBe(200);
  });

  /** A signed call, without an API key (providers have none). */
  const post = (
    body: string | Uint8Array,
    options: {
      to?: string;
      type?: string | null;
      timestamp?: number;
      secret?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<TestResponse> => {
    const timestamp = String(options.timestamp ?? seconds());
    const headers: Record<string, string> = {
      "x-sendgate-timestamp": timestamp,
      "x-sendgate-signature": signCallback(options.secret ?? SECRET, timestamp, body),
      ...options.headers,
    };
    const type = options.type === undefined ? "application/json" : options.type;
    if (type) headers["content-type"] = type;
    return Promise.resolve(
      s().app.request(`/v1/callbacks/sms/${options.to ?? "acme"}`, {
        method: "POST",
        headers,
        body: body as string,
      }),
    );
  };
  const json = (value: unknown) => JSON.stringify(value);
  const reports = (remoteId: string) =>
    s().database.rows<
      { provider: string; source: string; stat: string; err: string | null; doneAt: string | null }
    >(
      sql`select provider, source, stat, err, text, done_at as "doneAt", detail from sms_reports
          where remote_id = ${remoteId} order by id`,
    );
  const lastCallback = async () =>
    (await s().database.rows<
      {
        provider: string;
        outcome: string;
        signature: string | null;
        detail: { reason?: string; excerpt: string; fields: unknown[] };
      }
    >(sql`select provider, outcome, signature, detail from sms_callbacks order by id desc limit 1`))[
      0
    ]!;
  const fields = async (res: TestResponse) =>
    ((await res.json()).errors ?? []).map((e: { path: string }) => e.path);

  it("stores a signed JSON report before answering 200, without an API key", async () => {
    const body = json({
      messageId: "j-1",
      stat: "DELIVERED",
      err: 0,
      doneDate: "2024-02-01T08:30:00Z",
      submitDate: "2402010829",
      text: "Your code is 123456",
      reference: 77,
    });
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(await reports("j-1")).toEqual([{
      provider: "acme",
      source: "http",
      stat: "DELIVRD",
      err: "000",
      text: "Your code is 123456",
      doneAt: expect.anything(),
      detail: expect.objectContaining({ submitDate: "2024-02-01T08:29:00.000Z", reference: 77 }),
    }]);
    expect(new Date((await reports("j-1"))[0]!.doneAt!).toISOString()).toBe(
      "2024-02-01T08:30:00.000Z",
    );
    const recorded = await lastCallback();
    expect(recorded).toMatchObject({ provider: "acme", outcome: "accepted" });
    expect(recorded.signature).toMatch(/^sha256=[0-9a-f]{64}$/u);
    // The API keys still guard everything else under /v1.
    expect((await s().call("GET", "/v1/sms/providers", { key: null })).status).toBe(401);
  });

  it("takes one form-encoded report, and batches as an array or under `reports`", async () => {
    const form = new URLSearchParams({ messageId: "f-1", stat: "undeliv", err: "1" }).toString();
    const res = await post(form, { type: "application/x-www-form-urlencoded" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(await reports("f-1")).toMatchObject([{ stat: "UNDELIV", err: "001" }]);

    const three = ["b-1", "b-2", "b-3"].map((messageId) => ({ messageId, stat: "ENROUTE" }));
    expect(await (await post(json(three))).json()).toEqual({ accepted: 3 });
    // No err: "000", as an SMPP receipt without one reads.
    expect(await reports("b-2")).toMatchObject([{ stat: "ENROUTE", err: "000" }]);
    const more = [4, 5].map((n) => ({ messageId: `b-${n}`, stat: "EXPIRED", err: "027" }));
    expect(await (await post(json({ reports: more }))).json()).toEqual({ accepted: 2 });
    expect(await reports("b-5")).toMatchObject([{ stat: "EXPIRED", err: "027" }]);
  });

  it("refuses unsigned and wrongly signed calls with 401, and records each", async () => {
    const body = json({ messageId: "s-1", stat: "DELIVRD" });
    const cases: [() => Promise<TestResponse>, string, string][] = [
      [() => post(body, { headers: { "x-sendgate-signature": "" } }), "unsigned", "unsigned"],
      [() => post(body, { headers: { "x-sendgate-timestamp": "" } }), "unsigned", "unsigned"],
      [() => post(body, { secret: "another-secret-000" }), "badSignature", "mismatch"],
      [
        () => post(body, { headers: { "x-sendgate-signature": "sha256=zz" } }),
        "badSignature",
        "malformed",
      ],
      // Signed, then changed on the way.
      [
        () =>
          post(body, {
            headers: {
              "x-sendgate-signature": signCallback(SECRET, String(seconds()), `${body} `),
            },
          }),
        "badSignature",
        "mismatch",
      ],
    ];
    for (const [call, outcome, reason] of cases) {
      const res = await call();
      expect(res.status, outcome).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/u);
      expect((await res.json()).detail).toMatch(outcome === "unsigned" ? /^unsigned/u : /^bad/u);
      const recorded = await lastCallback();
      expect(recorded.outcome).toBe(outcome);
      if (outcome === "badSignature") expect(recorded.detail.reason).toBe(reason);
      expect(recorded.detail.excerpt).toBe(body);
    }
    expect(await reports("s-1")).toEqual([]);
  });

  it("refuses a genuine call timestamped more than 5 minutes away, either way, as stale", async () => {
    const body = json({ messageId: "t-1", stat: "DELIVRD" });
    for (const timestamp of [seconds() - 301, seconds() + 400]) {
      const res = await post(body, { timestamp });
      expect(res.status).toBe(401);
      expect((await res.json()).detail).toMatch(/^stale/u);
      expect((await lastCallback()).outcome).toBe("stale");
    }
    expect((await post(body, { timestamp: seconds() - 240 })).status).toBe(200);
    expect(await reports("t-1")).toHaveLength(1);
  });

  it("answers a replayed call 200 duplicate, stores nothing again, even when it races", async () => {
    const body = json({ messageId: "r-1", stat: "DELIVRD" });
    const timestamp = seconds();
    expect(await (await post(body, { timestamp })).json()).toEqual({ accepted: 1 });
    const again = await post(body, { timestamp });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: 0, duplicate: true });
    expect(await lastCallback()).toMatchObject({ outcome: "replayed" });
    expect(await reports("r-1")).toHaveLength(1);

    // Five copies at once: the unique index lets exactly one through.
    const race = json({ messageId: "r-2", stat: "DELIVRD" });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post(race, { timestamp }).then((r) => r.json())),
    );
    expect(answers.filter((a) => a.accepted === 1)).toHaveLength(1);
    expect(answers.filter((a) => a.duplicate)).toHaveLength(4);
    expect(await reports("r-2")).toHaveLength(1);
  });

  it("answers 404 for an unknown provider and for one without a callback secret", async () => {
    const body = json({ messageId: "u-1", stat: "DELIVRD" });
    for (const to of ["nobody", "mute", "%00bad", "x".repeat(300)]) {
      const res = await post(body, { to });
      expect(res.status, to).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/u);
      const recorded = await lastCallback();
      expect(recorded.outcome).toBe("unknownProvider");
      expect(recorded.provider.length).toBeLessThanOrEqual(64);
    }
    expect((await lastCallback()).detail.reason).toBe("no such provider");
    await post(body, { to: "mute" });
    expect((await lastCallback()).detail.reason).toBe("the provider has no callbackSecret");
    expect(await reports("u-1")).toEqual([]);
  });

  it("refuses bodies that are not the format with 400 naming each field, and records them", async () => {
    const bad: [string, string[], string?][] = [
      [json({ stat: "DELIVRD" }), ["messageId"]],
      [json({ messageId: "m-1" }), ["stat"]],
      [json({ messageId: "m-1", stat: "LOST" }), ["stat"]],
      [json({ messageId: "m\u00001", stat: "DELIVRD" }), ["messageId"]],
      [json({ messageId: "m-1\r\nX-Injected: 1", stat: "DELIVRD" }), ["messageId"]],
      [json({ messageId: "x".repeat(65), stat: "DELIVRD" }), ["messageId"]],
      [json({ messageId: 1.5, stat: "DELIVRD" }), ["messageId"]],
      [`{"messageId":"m-1","stat":"DELIVRD","text":"\\ud800"}`, ["text"]],
      [json({ messageId: "m-1", stat: "DELIVRD", err: "0 0" }), ["err"]],
      [json({ messageId: "m-1", stat: "DELIVRD", doneDate: "yesterday" }), ["doneDate"]],
      [json({ messageId: "m-1", stat: "DELIVRD", reference: 70_000 }), ["reference"]],
      [json({ messageId: "m-1", stat: "DELIVRD", colour: "red" }), ["colour"]],
      [json([]), ["(body)"]],
      [
        json({
          reports: [
            { messageId: "m-1", stat: "DELIVRD" },
            { messageId: "m-2", stat: "DELIVRD" },
            { messageId: "m-3", stat: "DELIVRD" },
            { messageId: "m-4", stat: "NOPE" },
            { stat: "DELIVRD" },
          ],
        }),
        ["reports.3.stat", "reports.4.messageId"],
      ],
      [json([{ messageId: "m-1", stat: "DELIVRD" }, { messageId: "" }]), ["1.messageId", "1.stat"]],
      [
        json({
          reports: Array.from({ length: 1001 }, (_, i) => ({ messageId: `${i}`, stat: "X" })),
        }),
        ["reports"],
      ],
      ["messageId=a&messageId=b&stat=DELIVRD", ["messageId"], "application/x-www-form-urlencoded"],
      ["messageId=a&stat=DELIVRD&reports=1", ["reports"], "application/x-www-form-urlencoded"],
    ];
    for (const [body, paths, type] of bad) {
      const res = await post(body, type ? { type } : {});
      expect(res.status, body.slice(0, 80)).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/u);
      const named = await fields(res);
      for (const path of paths) expect(named, body.slice(0, 80)).toContain(path);
      const recorded = await lastCallback();
      expect(recorded.outcome).toBe("invalid");
      expect(recorded.detail.fields.length).toBeGreaterThan(0);
      expect(recorded.detail.excerpt.length).toBeLessThanOrEqual(200);
    }
    const malformed: [string | Uint8Array, string][] = [
      ["{not json", "the body is not JSON"],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "the body is not UTF-8"],
    ];
    for (const [body, detail] of malformed) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect((await res.json()).detail).toBe(detail);
      expect((await lastCallback()).outcome).toBe("malformed");
    }
    for (const type of ["text/plain", null]) {
      const res = await post(json({ messageId: "m-1", stat: "DELIVRD" }), { type });
      expect(res.status).toBe(415);
      expect((await lastCallback()).outcome).toBe("unsupportedMediaType");
    }
    expect(await reports("m-1")).toEqual([]);
  });

  it("stores the same report from JSON and from a form, whatever the id and the stat's spelling", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[\x21-\x7e]{1,40}$/u),
        fc.constantFrom("DELIVRD", "delivered", "Undeliv", "EXPIRED", "rejected", "enroute"),
        fc.option(fc.stringMatching(/^\d{1,3}$/u), { nil: undefined }),
        async (id, stat, err) => {
          const results = [];
          for (const form of [false, true]) {
            const messageId = `p${n++}-${id}`;
            const report = { messageId, stat, ...(err !== undefined ? { err } : {}) };
            const res = form
              ? await post(new URLSearchParams(report).toString(), {
                type: "application/x-www-form-urlencoded",
              })
              : await post(json(report));
            expect(res.status).toBe(200);
            results.push((await reports(messageId)).map(({ stat, err }) => ({ stat, err })));
          }
          expect(results[1]).toEqual(results[0]);
          expect(results[0]).toHaveLength(1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("answers any signed body with 200, 400 or 415, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.json().map((j) => new TextEncoder().encode(j)),
          fc.string({ unit: "binary", maxLength: 100 }).map((t) =>
            new TextEncoder().encode(json({ messageId: t, stat: "DELIVRD", text: t }))
          ),
        ),
        fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/csv"),
        async (body, type) => {
          const res = await post(body, { type });
          expect([200, 400, 415], new TextDecoder().decode(body)).toContain(res.status);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses a body over 256 KiB with 413, unread past the limit, and records it", async () => {
    const big = json({ messageId: "big-1", stat: "DELIVRD", text: "x".repeat(300 * 1024) });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect((await lastCallback()).outcome).toBe("tooLarge");
    // Streamed, without a Content-Length: cut at the limit all the same.
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 16_384) {
          controller.enqueue(bytes.slice(i, i + 16_384));
        }
        controller.close();
      },
    });
    const timestamp = String(seconds());
    const streamed = await s().app.request("/v1/callbacks/sms/acme", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-sendgate-timestamp": timestamp,
        "x-sendgate-signature": signCallback(SECRET, timestamp, bytes),
      },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await reports("big-1")).toEqual([]);
  });

  it("never records the secret, and keeps only a bounded excerpt of a refused body", async () => {
    await post(json({ messageId: "k-1", stat: "DELIVRD", text: "y".repeat(250) }), {
      secret: "wrong-secret-0000",
    });
    const rows = await s().database.rows<{ row: unknown }>(
      sql`select to_jsonb(c) as row from sms_callbacks c`,
    );
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    expect((await lastCallback()).detail.excerpt).toHaveLength(200);
  });

  it("counts a receipt once, however often it comes by callback and by SMPP", async () => {
    const key = await s().key("cb");
    const created = await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "sms", content: { sender: "ACME", text: "Hi" } },
    });
    const delivery = (await created.json()).id as string;
    await s().call("POST", `/v1/deliveries/${delivery}/parts`, {
      key,
      json: {
        recipients: [
          { externalId: "ok", address: "+15550000001" },
          { externalId: "gone", address: "+15550000002" },
        ],
      },
    });
    expect((await s().call("POST", `/v1/deliveries/${delivery}/start`, { key })).status).toBe(200);
    // The provider takes both: ids 00AB01 and 00AB02, which receipts write as ab01 and ab02.
    const sms = {
      channel: "sms" as const,
      send: (batch: readonly OutgoingMessage[]) =>
        Promise.resolve(batch.map((m): SendOutcome => ({
          kind: "accepted",
          provider: "acme",
          remoteId: m.externalId === "ok" ? "00AB01" : "00AB02",
        }))),
      close: () => Promise.resolve(),
    };
    const running = dispatcher(s().database, [sms]);
    const messages = async () =>
      (await (await s().call("GET", `/v1/deliveries/${delivery}/messages`, { key })).json())
        .items as { id: string; externalId: string; status: string }[];
    try {
      await until(
        "taken into account",
        messages,
        (items) => items.length === 2 && items.every((m) => m.status === "takenIntoAccount"),
      );
    } finally {
      await running.stop();
    }
    await syncShippedRules(s().database);
    const apply = async () =>
      await applyReports(s().database, {
        rules: compileRules(await loadRuleSet(s().database)),
        domainRules: [],
        now: Date.now(),
      });
    const state = async () => {
      const items = await messages();
      const detail = await Promise.all(
        items.map(async (m) =>
          (await (await s().call("GET", `/v1/messages/${m.id}`, { key })).json()) as {
            status: string;
            events: { status: string }[];
          }
        ),
      );
      const view = await (await s().call("GET", `/v1/deliveries/${delivery}`, { key })).json();
      return {
        statuses: Object.fromEntries(items.map((m, i) => [m.externalId, detail[i]!.status])),
        events: Object.fromEntries(items.map((m, i) => [m.externalId, detail[i]!.events.length])),
        counts: view.counts,
      };
    };
    const callback = (timestamp: number) =>
      post(
        json([
          { messageId: "ab01", stat: "DELIVRD", err: "000" },
          { messageId: "ab02", stat: "UNDELIV", err: "001" },
        ]),
        { timestamp },
      );

    const first = seconds();
    expect(await (await callback(first)).json()).toEqual({ accepted: 2 });
    expect((await apply()).applied).toBe(2);
    const once = await state();
    expect(once.statuses).toEqual({ ok: "receivedOnMobile", gone: "failed" });
    expect(once.counts.byStatus).toMatchObject({ receivedOnMobile: 1, failed: 1 });

    // The provider sends it again (a retry signed anew: not a replay), and the SMPP bind
    // brings the same receipts, ids in another rendering. The retry's timestamp is one second
    // before the first call's, not `seconds() - 1`: with a second boundary crossed in between
    // (CI under load), that was the first call's timestamp again, a true replay.
    expect(await (await callback(first - 1)).json()).toEqual({ accepted: 2 });
    await storeReports(s().database, [
      {
        provider: "acme",
        source: "smpp",
        remoteId: "00ab01",
        stat: "DELIVRD",
        err: "000",
        text: null,
      },
      {
        provider: "acme",
        source: "smpp",
        remoteId: "AB02",
        stat: "UNDELIV",
        err: "001",
        text: null,
      },
    ], Date.now());
    expect((await apply()).applied).toBe(4);
    const after = await state();
    expect(after.statuses).toEqual(once.statuses);
    expect(after.counts).toEqual(once.counts);
    history = { once: once.events, after: after.events };
    const [address] = await s().database.rows<{ failures: number }>(
      sql`select count(*)::int as failures from message_events e join messages m on m.id = e.message_id
          where m.delivery_id = ${delivery} and e.status = 'failed'`,
    );
    expect(address!.failures).toBe(1);
  });

  // decide() (services/transitions.ts) compares the state the core derived with the one read back
  // from jsonb by value, keys sorted: a duplicate DELIVRD is no change and logs nothing.
  it("adds nothing to a message's history for a duplicate receipt", () => {
    expect(history!.after).toEqual(history!.once);
  });

  it("end to end: the simulator's provider-callback mode, signed, over real sockets", async () => {
    const server = serve({ fetch: s().app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/callbacks/sms/acme`;
    const ctx = new SimulatorContext(
      Scenario.parse({
        timeScale: 10_000,
        sms: { receipts: { mode: "http", url, secret: SECRET } },
      }),
    );
    const smsc = await startSmsc(ctx, { host: "127.0.0.1", port: 0 });
    const session = connect({ host: "127.0.0.1", port: smsc.port });
    session.on("error", () => {});
    const send = (command: string, fields: Record<string, unknown>) =>
      new Promise<PDU>((resolve) =>
        (session as unknown as Record<string, (f: unknown, cb: (pdu: PDU) => void) => void>)[
          command
        ]!(fields, resolve)
      );
    try {
      await new Promise<void>((resolve) => session.once("connect", () => resolve()));
      const bound = await send("bind_transceiver", { system_id: "sendgate", password: "secret" });
      expect(bound.command_status).toBe(0);
      // Magic numbers: …00 delivered, …03 unknown subscriber (UNDELIV 001).
      const ids: Record<string, string> = {};
      for (const [to, stat] of [["+15550000000", "DELIVRD"], ["+15550000003", "UNDELIV"]]) {
        const resp = await send("submit_sm", {
          source_addr: "Sendgate",
          source_addr_ton: 5,
          destination_addr: to,
          registered_delivery: 1,
          short_message: "Your code is 123456",
        });
        expect(resp.command_status).toBe(0);
        ids[stat!] = resp.message_id as string;
      }
      await until(
        "both callbacks stored",
        () => Promise.all([reports(ids.DELIVRD!), reports(ids.UNDELIV!)]),
        ([a, b]) => a.length === 1 && b.length === 1,
      );
      expect(await reports(ids.DELIVRD!)).toMatchObject([{ source: "http", stat: "DELIVRD" }]);
      expect(await reports(ids.UNDELIV!)).toMatchObject([
        { source: "http", stat: "UNDELIV", err: "001" },
      ]);
      // The simulator counts them delivered: it had its 200.
      await until(
        "the ledger",
        () => Promise.resolve(ctx.ledger.since(0)),
        (entries) => entries.length === 2 && entries.every((e) => Boolean(e.async?.sentAt)),
      );
    } finally {
      session.destroy();
      await smsc.close();
      ctx.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
