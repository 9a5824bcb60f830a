import {
  createECDH,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { createRequire } from "node:module";
import type { Hono } from "hono";
import webpush, { type PushSubscription, type RequestOptions } from "web-push";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatorContext } from "../../apps/simulator/src/context.ts";
import { createControlApp } from "../../apps/simulator/src/control.ts";
import { pushOutcomes, pushProtocolAnswers } from "../../apps/simulator/src/outcomes.ts";
import { decryptAes128gcm } from "@sendgate/channels";
import {
  registerPushControl,
  type RunningPushService,
  startPushService,
} from "../../apps/simulator/src/push/server.ts";
import { Scenario, type ScenarioInput } from "../../apps/simulator/src/scenario.ts";

// http_ece (what web-push encrypts with) has no types; only the multi-record test calls it.
const ece = createRequire(import.meta.url)("http_ece") as {
  encrypt(data: Buffer, params: Record<string, unknown>): Buffer;
};

const vapidKeys = webpush.generateVAPIDKeys();
const vapidDetails = {
  subject: "mailto:ops@example.com",
  publicKey: vapidKeys.publicKey,
  privateKey: vapidKeys.privateKey,
};

interface Minted extends PushSubscription {
  id: string;
  behaviour: string;
}

interface Sim {
  ctx: SimulatorContext;
  service: RunningPushService;
  app: Hono;
  mint(body?: Record<string, unknown>): Promise<Minted>;
  close(): Promise<void>;
}

async function simulator(scenario: ScenarioInput = {}, tls = false): Promise<Sim> {
  const ctx = new SimulatorContext(Scenario.parse(scenario));
  const service = await startPushService(ctx, { port: 0, tlsPort: tls ? 0 : null });
  const app = createControlApp(ctx);
  registerPushControl(app, service);
  return {
    ctx,
    service,
    app,
    async mint(body = {}) {
      const res = await app.request("/push/subscriptions", {
        method: "POST",
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return await res.json() as Minted;
    },
    async close() {
      await service.close();
      ctx.close();
    },
  };
}

/** Sends like a gateway would: web-push builds the request, fetch carries it over plain HTTP. */
async function push(
  sub: PushSubscription,
  payload: string | Buffer | null,
  options: RequestOptions = {},
  edit?: (headers: Record<string, string>) => void,
): Promise<Response> {
  const details = webpush.generateRequestDetails(sub, payload ?? undefined, {
    vapidDetails,
    TTL: 60,
    ...options,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(details.headers)) {
    if (name.toLowerCase() !== "content-length") headers[name] = String(value);
  }
  edit?.(headers);
  return await fetch(details.endpoint, {
    method: "POST",
    headers,
    body: details.body ?? undefined,
  });
}

/** A VAPID header with chosen claims, signed by `key` (ES256, raw r||s). */
function vapidHeader(
  claims: Record<string, unknown>,
  key: { privateKey: KeyObject; k: string },
): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${enc({ typ: "JWT", alg: "ES256" })}.${enc(claims)}`;
  const signature = sign("sha256", Buffer.from(input), {
    key: key.privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `vapid t=${input}.${signature.toString("base64url")}, k=${key.k}`;
}

function signingKey(): { privateKey: KeyObject; k: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const raw = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x!, "base64url"),
    Buffer.from(jwk.y!, "base64url"),
  ]);
  return { privateKey, k: raw.toString("base64url") };
}

/** The VAPID key web-push uses, as a KeyObject, for hand-made tokens. */
function webPushKey(): { privateKey: KeyObject; k: string } {
  const raw = Buffer.from(vapidKeys.publicKey, "base64url");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    d: vapidKeys.privateKey,
    x: raw.subarray(1, 33).toString("base64url"),
    y: raw.subarray(33).toString("base64url"),
  };
  return { privateKey: createPrivateKey({ key: jwk, format: "jwk" }), k: vapidKeys.publicKey };
}

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("push service: answers, payloads, ledger", () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await simulator({ push: { retryAfterSeconds: 7 } }, true);
  });
  afterAll(() => sim.close());

  it("mints subscriptions like a browser's PushSubscription, with an endpoint on the service", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    expect(sub.endpoint).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${sim.service.port}/push/[A-Za-z0-9_-]+$`),
    );
    expect(Buffer.from(sub.keys.p256dh, "base64url")).toHaveLength(65);
    expect(Buffer.from(sub.keys.auth, "base64url")).toHaveLength(16);
    expect(sub).toMatchObject({ behaviour: "accept", expirationTime: null });
    const tls = await sim.mint({ tls: true });
    expect(tls.endpoint).toMatch(
      new RegExp(`^https://127\\.0\\.0\\.1:${sim.service.tlsPort}/push/`),
    );
    expect(tls.behaviour).toBe("mix");
    const bad = await sim.app.request("/push/subscriptions", {
      method: "POST",
      body: JSON.stringify({ behaviour: "explode" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: string[] }).errors[0]).toMatch(/^behaviour:/u);
  });

  it("answers each subscription behaviour with its status and records it", async () => {
    const statuses = {
      accept: 201,
      gone: 410,
      notFound: 404,
      rateLimited: 429,
      serverError: 500,
      unavailable: 503,
    } as const;
    for (
      const [behaviour, status] of Object.entries(statuses) as [keyof typeof statuses, number][]
    ) {
      const sub = await sim.mint({ behaviour });
      const res = await push(
        sub,
        JSON.stringify({ title: "Hi" }),
        {},
        (h) => h["X-Sendgate-Id"] = `b-${behaviour}`,
      );
      expect(res.status, behaviour).toBe(status);
      await res.arrayBuffer();
      if (status === 201) {
        expect(res.headers.get("location")).toMatch(
          new RegExp(`^http://127\\.0\\.0\\.1:${sim.service.port}/message/`),
        );
      }
      if (status === 429) {
        expect(res.headers.get("retry-after")).toBe("7");
      }
      const [entry] = sim.ctx.ledger.get(`b-${behaviour}`);
      expect(entry).toMatchObject({
        channel: "push",
        recipient: sub.endpoint,
        outcome: behaviour,
        decidedBy: "subscription",
        sync: { http: status },
        expected: pushOutcomes[behaviour].expected,
      });
    }
  });

  it("decrypts the payload: the user agent gets what was sent, the ledger only its size and keys", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const payload = JSON.stringify({ sendgateId: "msg-42", title: "Hello", body: "Secret text ✓" });
    const res = await push(sub, payload, { urgency: "high", topic: "news" });
    expect(res.status).toBe(201);
    const [entry] = sim.ctx.ledger.get("msg-42");
    expect(entry!.extra).toMatchObject({
      payloadBytes: Buffer.byteLength(payload),
      jsonKeys: ["sendgateId", "title", "body"],
      urgency: "high",
      topic: "news",
      ttl: 60,
      vapidSub: "mailto:ops@example.com",
    });
    expect(JSON.stringify(entry)).not.toContain("Secret");

    // No header, no id in the payload: the message resource's id is the correlation id.
    const binary = randomBytes(300);
    const res2 = await push(sub, binary);
    const messageId = res2.headers.get("location")!.split("/").at(-1)!;
    expect(sim.ctx.ledger.get(messageId)[0]!.extra).toMatchObject({
      payloadBytes: 300,
      jsonKeys: null,
    });
    // A push without payload (a "tickle") needs no encryption.
    expect((await push(sub, null)).status).toBe(201);

    const messages = await (await sim.app.request(`/push/subscriptions/${sub.id}/messages`))
      .json() as { items: { text: string; base64: string }[] };
    expect(messages.items.map((m) => m.text)).toEqual([
      payload,
      binary.toString("utf8"),
      "",
    ]);
    expect(Buffer.from(messages.items[1]!.base64, "base64").equals(binary)).toBe(true);
    expect(messages.items[0]).toMatchObject({
      id: "msg-42",
      urgency: "high",
      topic: "news",
      ttl: 60,
    });
  });

  it("takes a payload id field when there is no X-Sendgate-Id, and prefers the header", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    await push(sub, JSON.stringify({ id: 9001 }));
    expect(sim.ctx.ledger.get("9001")).toHaveLength(1);
    await push(
      sub,
      JSON.stringify({ sendgateId: "in-payload" }),
      {},
      (h) => h["X-Sendgate-Id"] = "in-header",
    );
    expect(sim.ctx.ledger.get("in-header")).toHaveLength(1);
    expect(sim.ctx.ledger.get("in-payload")).toHaveLength(0);
  });

  it("decrypts bodies of several records (rs smaller than the payload)", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const sender = createECDH("prime256v1");
    sender.generateKeys();
    const plaintext = randomBytes(1000);
    const body = ece.encrypt(plaintext, {
      version: "aes128gcm",
      dh: sub.keys.p256dh,
      privateKey: sender,
      salt: randomBytes(16).toString("base64url"),
      authSecret: sub.keys.auth,
      rs: 100,
    });
    const stored = sim.service.subscriptions.get(sub.id)!;
    const result = decryptAes128gcm(body, stored);
    expect(result.ok && result.plaintext.equals(plaintext)).toBe(true);
    const details = webpush.generateRequestDetails(sub, "x", { vapidDetails, TTL: 60 });
    const multi = await fetch(sub.endpoint, {
      method: "POST",
      headers: {
        TTL: "60",
        "Content-Encoding": "aes128gcm",
        Authorization: String(details.headers.Authorization),
      },
      body,
    });
    expect(multi.status).toBe(201);
  });

  it("serves HTTPS with the generated certificate: web-push's sendNotification works end to end", async () => {
    const agent = new https.Agent({ ca: sim.service.certificate!, keepAlive: true });
    try {
      const sub = await sim.mint({ behaviour: "accept", tls: true });
      const result = await webpush.sendNotification(sub, JSON.stringify({ sendgateId: "tls-1" }), {
        vapidDetails,
        agent,
        TTL: 30,
      });
      expect(result.statusCode).toBe(201);
      expect(result.headers.location).toMatch(
        new RegExp(`^https://127\\.0\\.0\\.1:${sim.service.tlsPort}/message/`),
      );
      expect(sim.ctx.ledger.get("tls-1")[0]).toMatchObject({
        outcome: "accept",
        extra: { listener: "https" },
      });

      const gone = await sim.mint({ behaviour: "gone", tls: true });
      const error = await webpush.sendNotification(gone, "bye", { vapidDetails, agent }).catch((
        e,
      ) => e);
      expect(error).toBeInstanceOf(webpush.WebPushError);
      expect(error.statusCode).toBe(410);
    } finally {
      agent.destroy();
    }
  });

  it("accepts 4096 encrypted bytes (3993 of plaintext) and answers 413 beyond", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const fits = webpush.generateRequestDetails(sub, "a".repeat(3993), { vapidDetails });
    expect(fits.body!.length).toBe(4096);
    expect((await push(sub, "a".repeat(3993), {}, (h) => h["X-Sendgate-Id"] = "fits")).status).toBe(
      201,
    );
    const res = await push(sub, "a".repeat(3994), {}, (h) => h["X-Sendgate-Id"] = "too-large");
    expect(res.status).toBe(413);
    expect(sim.ctx.ledger.get("too-large")[0]).toMatchObject({
      outcome: "tooLarge",
      decidedBy: "protocol",
      sync: { http: 413 },
      expected: pushProtocolAnswers.tooLarge.expected,
      extra: { encryptedBytes: 4097 },
    });
    // Chunked, without Content-Length: the limit holds as the body is read.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(sub.endpoint, {
        method: "POST",
        headers: { TTL: "0", "Content-Encoding": "aes128gcm" },
      }, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on("error", reject);
      req.write(Buffer.alloc(3000));
      req.end(Buffer.alloc(3000));
    });
    expect(chunked).toBe(413);
  });

  it("answers 400 for bad headers and for bodies that do not decrypt, and records them", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const other = await sim.mint({ behaviour: "accept" });
    const before = sim.service.protocolErrors;
    const cases: [string, (h: Record<string, string>) => void, PushSubscription?, string?][] = [
      ["no-ttl", (h) => delete h.TTL],
      ["bad-ttl", (h) => h.TTL = "soon"],
      ["bad-urgency", (h) => h.Urgency = "asap"],
      ["long-topic", (h) => h.Topic = "t".repeat(33)],
      ["bad-topic", (h) => h.Topic = "a topic"],
      ["aesgcm", (h) => h["Content-Encoding"] = "aesgcm"],
      ["no-encoding", (h) => delete h["Content-Encoding"]],
      // Encrypted for another subscription's keys, sent to this one.
      ["wrong-key", () => {}, { ...sub, keys: other.keys }],
    ];
    for (const [id, edit, target] of cases) {
      const details = webpush.generateRequestDetails(target ?? sub, "hello", {
        vapidDetails,
        TTL: 60,
      });
      const headers: Record<string, string> = { "X-Sendgate-Id": id };
      for (const [name, value] of Object.entries(details.headers)) {
        if (name !== "Content-Length") headers[name] = String(value);
      }
      edit(headers);
      const res = await fetch(sub.endpoint, { method: "POST", headers, body: details.body! });
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { message: string }).message, id).toBeTypeOf("string");
      expect(sim.ctx.ledger.get(id)[0], id).toMatchObject({
        outcome: "badRequest",
        decidedBy: "protocol",
        sync: { http: 400 },
        expected: pushProtocolAnswers.badRequest.expected,
      });
    }
    // Garbage, truncated and tampered bodies.
    const good = webpush.generateRequestDetails(sub, "hello", { vapidDetails, TTL: 60 });
    const tampered = Buffer.from(good.body!);
    tampered[tampered.length - 1]! ^= 1;
    const badKeyId = Buffer.from(good.body!);
    badKeyId.fill(7, 21, 86);
    for (
      const body of [
        randomBytes(200),
        good.body!.subarray(0, 50),
        good.body!.subarray(0, good.body!.length - 5),
        tampered,
        badKeyId,
        Buffer.alloc(30),
      ]
    ) {
      const res = await fetch(sub.endpoint, {
        method: "POST",
        headers: {
          TTL: "60",
          "Content-Encoding": "aes128gcm",
          Authorization: String(good.headers.Authorization),
        },
        body,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/^cannot decrypt/u);
    }
    expect(sim.service.protocolErrors - before).toBe(cases.length + 6);
  });

  it("checks VAPID: 401 when it cannot authenticate the sender, 403 when the claims are wrong", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const origin = new URL(sub.endpoint).origin;
    const mine = webPushKey();
    const other = signingKey();
    const claims = { aud: origin, exp: now() + 3600, sub: "mailto:ops@example.com" };
    const signedByOther = vapidHeader(claims, other);
    const cases: [string, number, string | null][] = [
      ["vapid-missing", 401, null],
      ["vapid-bearer", 401, "Bearer abc"],
      ["vapid-no-k", 401, `vapid t=${vapidHeader(claims, mine).slice(8).split(",")[0]}`],
      ["vapid-garbage-token", 401, `vapid t=not.a.jwt!, k=${mine.k}`],
      ["vapid-bad-base64", 401, `vapid t=%%%.***.$$$, k=${mine.k}`],
      ["vapid-bad-k", 401, `vapid t=${signedByOther.slice(8).split(",")[0]}, k=AAAA`],
      // Signed by one key, claiming another's.
      ["vapid-other-key", 401, signedByOther.replace(other.k, mine.k)],
      [
        "vapid-alg-none",
        401,
        `vapid t=${Buffer.from('{"alg":"none"}').toString("base64url")}.${
          Buffer.from(JSON.stringify(claims)).toString("base64url")
        }., k=${mine.k}`,
      ],
      ["vapid-wrong-aud", 403, vapidHeader({ ...claims, aud: "https://push.example.net" }, mine)],
      ["vapid-expired", 403, vapidHeader({ ...claims, exp: now() - 10 }, mine)],
      ["vapid-too-far", 403, vapidHeader({ ...claims, exp: now() + 25 * 3600 }, mine)],
      ["vapid-no-sub", 403, vapidHeader({ aud: origin, exp: now() + 3600 }, mine)],
      ["vapid-good", 201, vapidHeader(claims, mine)],
      ["vapid-good-other-key", 201, signedByOther],
    ];
    for (const [id, status, authorization] of cases) {
      const res = await push(sub, "hi", {}, (h) => {
        h["X-Sendgate-Id"] = id;
        if (authorization === null) delete h.Authorization;
        else h.Authorization = authorization;
      });
      expect(res.status, id).toBe(status);
      await res.arrayBuffer();
      if (status !== 201) {
        const answer = status === 401 ? "unauthorized" : "forbidden";
        expect(sim.ctx.ledger.get(id)[0], id).toMatchObject({
          outcome: answer,
          decidedBy: "protocol",
          expected: pushProtocolAnswers[answer].expected,
        });
      }
    }
    // web-push's own expired and wrong-audience tokens.
    const expired = webpush.getVapidHeaders(
      origin,
      vapidDetails.subject,
      vapidKeys.publicKey,
      vapidKeys.privateKey,
      "aes128gcm",
      now() - 60,
    );
    expect((await push(sub, "hi", {}, (h) => h.Authorization = expired.Authorization)).status).toBe(
      403,
    );
    const elsewhere = webpush.getVapidHeaders(
      "http://127.0.0.1:1",
      vapidDetails.subject,
      vapidKeys.publicKey,
      vapidKeys.privateKey,
      "aes128gcm",
    );
    expect((await push(sub, "hi", {}, (h) => h.Authorization = elsewhere.Authorization)).status)
      .toBe(403);
  });

  it("restricts a subscription to its applicationServerKey (403 for another key)", async () => {
    const sub = await sim.mint({ behaviour: "accept", applicationServerKey: vapidKeys.publicKey });
    expect((await push(sub, "mine")).status).toBe(201);
    const other = webpush.generateVAPIDKeys();
    const res = await push(sub, "theirs", { vapidDetails: { ...vapidDetails, ...other } });
    expect(res.status).toBe(403);
  });

  it("answers 404 for an unknown subscription, 410 once deleted or expired", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const unknown = { ...sub, endpoint: sub.endpoint.replace(/[^/]+$/u, "nobody") };
    const res = await push(unknown, "hi", {}, (h) => h["X-Sendgate-Id"] = "to-nobody");
    expect(res.status).toBe(404);
    expect(sim.ctx.ledger.get("to-nobody")[0]).toMatchObject({
      outcome: "notFound",
      decidedBy: "protocol",
      expected: pushOutcomes.notFound.expected,
    });

    expect((await sim.app.request(`/push/subscriptions/${sub.id}`, { method: "DELETE" })).status)
      .toBe(204);
    const deleted = await push(sub, "hi", {}, (h) => h["X-Sendgate-Id"] = "to-deleted");
    expect(deleted.status).toBe(410);
    expect(sim.ctx.ledger.get("to-deleted")[0]).toMatchObject({
      outcome: "gone",
      decidedBy: "subscription",
      expected: pushOutcomes.gone.expected,
    });
    expect(await (await sim.app.request(`/push/subscriptions/${sub.id}`)).json()).toMatchObject({
      state: "deleted",
    });

    const other = await sim.mint({ behaviour: "accept" });
    expect((await push(other, "hi")).status).toBe(201);
    const expire = await sim.app.request(`/push/subscriptions/${other.id}/expire`, {
      method: "POST",
    });
    expect(await expire.json()).toMatchObject({ state: "expired" });
    expect((await push(other, "hi")).status).toBe(410);
    expect((await push(other, "hi")).status).toBe(410);
    expect((await sim.app.request("/push/subscriptions/nobody")).status).toBe(404);
    expect((await sim.app.request("/push/subscriptions/nobody", { method: "DELETE" })).status).toBe(
      404,
    );
  });

  it("survives broken HTTP, wrong methods and paths, and counts them", async () => {
    const before = sim.service.protocolErrors;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(
        sim.service.port,
        "127.0.0.1",
        () => socket.write("HELLO THERE\r\n\r\n\u0000\u0001"),
      );
      let text = "";
      socket.on("data", (d) => text += d.toString());
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/u);
    const sub = await sim.mint({ behaviour: "accept" });
    expect((await fetch(sub.endpoint)).status).toBe(405);
    expect(
      (await fetch(`http://127.0.0.1:${sim.service.port}/elsewhere`, { method: "POST" })).status,
    ).toBe(404);
    // A TLS client speaking to the HTTPS port without a handshake.
    await new Promise<void>((resolve) => {
      const socket = net.connect(
        sim.service.tlsPort!,
        "127.0.0.1",
        () => socket.end("GET / HTTP/1.1\r\n\r\n"),
      );
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
    expect(sim.service.protocolErrors - before).toBeGreaterThanOrEqual(3);
    expect((await push(sub, "still up")).status).toBe(201);
  });
});

describe("push service: the scenario's mix", () => {
  const mix = { accept: 2, gone: 1, notFound: 1, rateLimited: 1, serverError: 1, unavailable: 1 };
  const ids = ["alpha", "bravo", "charlie", "delta"];

  async function run(seed: number): Promise<string[]> {
    const sim = await simulator({ seed, push: { mix } });
    try {
      const outcomes: string[] = [];
      const subs = await Promise.all(ids.map((id) => sim.mint({ id })));
      for (let round = 0; round < 6; round++) {
        for (const sub of subs) {
          const res = await push(sub, `round ${round}`);
          await res.arrayBuffer();
          outcomes.push(`${sub.id}:${res.status}`);
        }
      }
      for (const entry of sim.ctx.ledger.since(0)) expect(entry.decidedBy).toBe("mix");
      return outcomes;
    } finally {
      await sim.close();
    }
  }

  it("draws outcomes deterministically: same seed and endpoints, same answers on another port", async () => {
    const first = await run(42);
    const second = await run(42);
    expect(second).toEqual(first);
    expect(new Set(first.map((o) => o.split(":")[1])).size).toBeGreaterThanOrEqual(4);
    expect(await run(43)).not.toEqual(first);
  });

  it("pins an id only once (409 for a taken one)", async () => {
    const sim = await simulator();
    try {
      await sim.mint({ id: "same" });
      const res = await sim.app.request("/push/subscriptions", {
        method: "POST",
        body: JSON.stringify({ id: "same" }),
      });
      expect(res.status).toBe(409);
    } finally {
      await sim.close();
    }
  });

  it("applies latency from the scenario", async () => {
    const sim = await simulator({ push: { latency: { minMs: 150, maxMs: 200 } } });
    try {
      const sub = await sim.mint({ behaviour: "accept" });
      const started = Date.now();
      expect((await push(sub, "slow")).status).toBe(201);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(sim.ctx.ledger.since(0)[0]!.extra!.latencyMs).toBeGreaterThanOrEqual(150);
    } finally {
      await sim.close();
    }
  });
});

describe("push service: faults on schedule", () => {
  /**
   * Schedules a fault `inMs` real milliseconds from now for `forMs`, in the scenario's simulated
   * time; returns a wait until it is over.
   */
  function schedule(
    sim: Sim,
    kind: "drop" | "stall" | "refuse" | "restart",
    inMs: number,
    forMs: number,
  ): () => Promise<unknown> {
    const scale = sim.ctx.scenario.timeScale;
    const atMs = sim.ctx.scheduler.elapsed() + inMs * scale;
    sim.ctx.setScenario(Scenario.parse({
      timeScale: scale,
      push: { faults: [{ atMs, durationMs: forMs * scale, kind }] },
    }));
    const end = Date.now() + inMs + forMs;
    return () => sleep(Math.max(0, end - Date.now()) + 60);
  }

  /** One POST over a keep-alive agent, so an existing connection is reused when there is one. */
  function post(
    agent: http.Agent,
    sub: PushSubscription,
    id: string,
    timeoutMs = 2_000,
  ): Promise<number | string> {
    const details = webpush.generateRequestDetails(sub, "fault?", { vapidDetails, TTL: 60 });
    return new Promise((resolve) => {
      const req = http.request(sub.endpoint, {
        method: "POST",
        agent,
        headers: { ...details.headers, "X-Sendgate-Id": id } as Record<string, string>,
        timeout: timeoutMs,
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (error) => resolve(error.message));
      req.end(details.body);
    });
  }

  it("drop: connections close during the window, then service resumes", async () => {
    const sim = await simulator();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const sub = await sim.mint({ behaviour: "accept" });
      expect(await post(agent, sub, "before")).toBe(201);
      const over = schedule(sim, "drop", 100, 800);
      await sleep(150);
      expect(await post(agent, sub, "during")).toBeTypeOf("string");
      expect(await post(new http.Agent(), sub, "during-new")).toBeTypeOf("string");
      expect(sim.service.droppedConnections).toBeGreaterThan(0);
      await over();
      expect(await post(agent, sub, "after")).toBe(201);
    } finally {
      agent.destroy();
      await sim.close();
    }
  });

  it("refuse: 503 on open connections, new ones closed at once", async () => {
    const sim = await simulator();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sub = await sim.mint({ behaviour: "accept" });
      expect(await post(agent, sub, "before")).toBe(201);
      const over = schedule(sim, "refuse", 0, 800);
      await sleep(20);
      expect(await post(agent, sub, "refused")).toBe(503);
      expect(sim.ctx.ledger.get("refused")[0]).toMatchObject({
        outcome: "unavailable",
        extra: { fault: "refuse" },
        expected: pushOutcomes.unavailable.expected,
      });
      expect(await post(new http.Agent(), sub, "refused-new")).toBeTypeOf("string");
      await over();
      expect(await post(agent, sub, "after")).toBe(201);
    } finally {
      agent.destroy();
      await sim.close();
    }
  });

  it("stall: requests get no answer during the window", async () => {
    const sim = await simulator();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const sub = await sim.mint({ behaviour: "accept" });
      const over = schedule(sim, "stall", 0, 800);
      await sleep(20);
      expect(await post(agent, sub, "stalled", 300)).toBe("timeout");
      expect(sim.ctx.ledger.get("stalled")[0]).toMatchObject({
        outcome: "stall",
        sync: { none: expect.any(String) },
      });
      await over();
      expect(await post(agent, sub, "after")).toBe(201);
    } finally {
      agent.destroy();
      await sim.close();
    }
  });

  it("restart: the port refuses connections, then listens again (fault times are simulated)", async () => {
    // timeScale 60: the 700 ms window is 42 simulated seconds in the scenario.
    const sim = await simulator({ timeScale: 60 });
    try {
      const sub = await sim.mint({ behaviour: "accept" });
      const over = schedule(sim, "restart", 0, 700);
      await sleep(80);
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(sim.service.port, "127.0.0.1", () => {
          socket.destroy();
          resolve("connected");
        });
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      expect(refused).toBe("ECONNREFUSED");
      await over();
      expect((await push(sub, "back")).status).toBe(201);
    } finally {
      await sim.close();
    }
  });
});
