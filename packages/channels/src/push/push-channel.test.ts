import type { LookupAddress } from "node:dns";
import { X509Certificate } from "node:crypto";
import { createServer } from "node:net";
import tls from "node:tls";
import {
  compileRules,
  defaultRuleSet,
  type FailureVerdict,
  qualify,
  type Verdict,
} from "@sendgate/core";
import { type RunningSimulator, Scenario, startSimulator } from "@sendgate/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import webpush from "web-push";
import type { OutgoingMessage, SendOutcome } from "../channel.ts";
import { messageToken } from "../token.ts";
import { type AllowList, FORBIDDEN_ADDRESS, parseAllowList } from "./endpoint-policy.ts";
import { createPushChannel, type PushChannel, type PushChannelConfig } from "./push-channel.ts";
import { webPushSigner } from "./vapid-tokens.ts";

// The push channel against the real simulated push service on loopback: it checks VAPID and
// decrypts every body as a push service would, and its ledger says what reached it.

const SECRET = "push-channel-test-secret";
const vapid = { subject: "mailto:ops@example.com", ...webpush.generateVAPIDKeys() };
const otherKeys = webpush.generateVAPIDKeys();
const rules = compileRules(defaultRuleSet);
const loopback = allowList("127.0.0.1");

function allowList(spec: string): AllowList {
  const parsed = parseAllowList(spec);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.allow;
}

interface Minted {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

interface Sim {
  running: RunningSimulator;
  http: string;
  https: string;
  /** The simulator's self-signed certificate, as a client would pin it. */
  ca: string;
  mint(body?: Record<string, unknown>): Promise<Minted>;
  control<T>(path: string, init?: RequestInit): Promise<T>;
  /** Ledger entries recorded under a correlation id (the message token). */
  ledger(id: string): Promise<{ outcome: string; sync: { http?: number } }[]>;
  /** Push entries in the ledger so far. */
  pushTotal(): Promise<number>;
  close(): Promise<void>;
}

async function simulator(scenario: Parameters<typeof Scenario.parse>[0] = {}): Promise<Sim> {
  const running = await startSimulator(Scenario.parse(scenario), {
    smtpPort: null,
    smppPort: null,
    pushPort: 0,
    pushTlsPort: 0,
  });
  const [http, https] = running.urls.push as [string, string];
  const control = async <T>(path: string, init?: RequestInit) => {
    const res = await fetch(`${running.urls.control[0]}${path}`, init);
    return (res.status === 404 ? null : await res.json()) as T;
  };
  return {
    running,
    http,
    https,
    ca: await peerCertificate(new URL(https)),
    control,
    mint: (body = {}) =>
      control<Minted>("/push/subscriptions", { method: "POST", body: JSON.stringify(body) }),
    ledger: async (id) =>
      (await control<{ items: { outcome: string; sync: { http?: number } }[] }>(
        `/ledger/${id}`,
      ))?.items ?? [],
    pushTotal: async () =>
      (await control<Record<string, { total: number }>>("/ledger/summary")).push?.total ?? 0,
    close: () => running.close(),
  };
}

function peerCertificate(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: url.hostname, port: Number(url.port), rejectUnauthorized: false },
      () => {
        const pem = new X509Certificate(socket.getPeerCertificate().raw).toString();
        socket.end();
        resolve(pem);
      },
    );
    socket.on("error", reject);
  });
}

let nextId = 1;
function message(sub: Minted, content: Record<string, unknown> = { title: "Hi" }): OutgoingMessage {
  const id = nextId++;
  return {
    id,
    deliveryId: "d-1",
    instanceId: "i-1",
    attempt: 1,
    externalId: `e-${id}`,
    address: sub.endpoint,
    addressData: { keys: sub.keys },
    fields: null,
    content,
  };
}

const token = (m: OutgoingMessage) => messageToken(m.id, SECRET);

function verdictOf(outcome: SendOutcome): Verdict {
  if (outcome.kind !== "refused" && outcome.kind !== "transport") {
    throw new Error(`no input to qualify in a ${outcome.kind} outcome`);
  }
  return qualify(rules, outcome.input).verdict;
}

const failure = (v: Partial<FailureVerdict>) =>
  expect.objectContaining({ outcome: "failure", ...v });

describe("push channel against the simulated push service", () => {
  let sim: Sim;
  const open: PushChannel[] = [];
  const channel = (config: Partial<PushChannelConfig> = {}) => {
    const c = createPushChannel({
      vapid,
      tokenSecret: SECRET,
      allow: loopback,
      tls: { ca: sim.ca },
      ...config,
    });
    open.push(c);
    return c;
  };
  const sendOne = async (m: OutgoingMessage, config: Partial<PushChannelConfig> = {}) => {
    const c = channel(config);
    const [outcome] = await c.send([m]);
    await c.close();
    return outcome!;
  };

  beforeAll(async () => {
    sim = await simulator({ push: { retryAfterSeconds: 2 } });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await sim.close();
  });

  for (const scheme of ["http", "https"] as const) {
    describe(`over ${scheme}`, () => {
      const mint = (body: Record<string, unknown> = {}) =>
        sim.mint({ ...body, tls: scheme === "https" });

      it("201: accepted, remoteId from Location; the user agent decrypted title, body, data and sendgateId", async () => {
        const sub = await mint({ behaviour: "accept" });
        const m = message(sub, {
          title: "Sale ✓",
          body: "Up to 50% off",
          data: { url: "https://shop.example/s", items: [1, 2] },
          ttlSeconds: 600,
          urgency: "high",
          topic: "sale",
        });
        const outcome = await sendOne(m);
        const origin = scheme === "http" ? sim.http : sim.https;
        expect(outcome).toEqual({
          kind: "accepted",
          remoteId: expect.stringMatching(new RegExp(`^${origin}/message/`)),
        });
        expect(qualify(rules, { channel: "push", kind: "http", status: 201 }).verdict).toEqual({
          outcome: "success",
          status: "sent",
        });
        const { items } = await sim.control<{ items: Record<string, unknown>[] }>(
          `/push/subscriptions/${sub.id}/messages`,
        );
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ id: token(m), ttl: 600, urgency: "high", topic: "sale" });
        expect(JSON.parse(items[0]!.text as string)).toEqual({
          title: "Sale ✓",
          body: "Up to 50% off",
          data: { url: "https://shop.example/s", items: [1, 2] },
          sendgateId: token(m),
        });
        expect(await sim.ledger(token(m))).toMatchObject([{
          outcome: "accept",
          sync: { http: 201 },
        }]);
      });

      it("404 and 410: refused, hard 1 (the subscription is gone)", async () => {
        for (const [behaviour, status] of [["gone", 410], ["notFound", 404]] as const) {
          const outcome = await sendOne(message(await mint({ behaviour })));
          expect(outcome).toMatchObject({ kind: "refused", input: { channel: "push", status } });
          expect(verdictOf(outcome)).toEqual(failure({ type: "hard", reason: 1, retry: "never" }));
        }
        const sub = await mint({ behaviour: "accept" });
        const unknown = { ...sub, endpoint: sub.endpoint.replace(/[^/]+$/u, "nobody") };
        const outcome = await sendOne(message(unknown));
        expect(outcome).toMatchObject({ kind: "refused", input: { status: 404 } });
        expect(verdictOf(outcome)).toEqual(failure({ type: "hard", reason: 1 }));
      });

      it("429: refused with Retry-After as retryAfterMs, ignored 3", async () => {
        const outcome = await sendOne(message(await mint({ behaviour: "rateLimited" })));
        expect(outcome).toMatchObject({
          kind: "refused",
          input: { status: 429, retryAfterMs: 2000 },
        });
        expect(verdictOf(outcome)).toEqual(
          failure({ type: "ignored", reason: 3, retry: "backoff", retryAfterMs: 2000 }),
        );
      });

      it("500 and 503: refused with the body, ignored 3, retried", async () => {
        for (const [behaviour, status] of [["serverError", 500], ["unavailable", 503]] as const) {
          const outcome = await sendOne(message(await mint({ behaviour })));
          expect(outcome).toMatchObject({
            kind: "refused",
            input: { status, body: expect.stringContaining("(simulated)") },
          });
          expect(verdictOf(outcome)).toEqual(
            failure({ type: "ignored", reason: 3, retry: "schedule" }),
          );
        }
      });

      it("400 (a body the subscription cannot decrypt): ignored 3, not retried", async () => {
        const sub = await mint({ behaviour: "accept" });
        const other = await mint({ behaviour: "accept" });
        const outcome = await sendOne(message({ ...sub, keys: other.keys }));
        expect(outcome).toMatchObject({
          kind: "refused",
          input: { status: 400, body: expect.stringContaining("cannot decrypt") },
        });
        expect(verdictOf(outcome)).toEqual(failure({ type: "ignored", reason: 3, retry: "never" }));
      });

      it("401 (a signature that does not verify) and 403 (another key's subscription): ignored 3, pause", async () => {
        // Signed by one key, presenting another: what a half-rotated VAPID configuration sends.
        const forged = (audience: string, expiresAt: number) =>
          webpush.getVapidHeaders(
            audience,
            vapid.subject,
            vapid.publicKey,
            otherKeys.privateKey,
            "aes128gcm",
            expiresAt,
          ).Authorization;
        const unauthorized = await sendOne(message(await mint({ behaviour: "accept" })), {
          sign: forged,
        });
        expect(unauthorized).toMatchObject({ kind: "refused", input: { status: 401 } });
        const forbidden = await sendOne(
          message(await mint({ behaviour: "accept", applicationServerKey: otherKeys.publicKey })),
        );
        expect(forbidden).toMatchObject({ kind: "refused", input: { status: 403 } });
        for (const outcome of [unauthorized, forbidden]) {
          expect(verdictOf(outcome)).toEqual(
            failure({ type: "ignored", reason: 3, pauseDelivery: true }),
          );
        }
      });

      it("413 (a push service that gets more than 4096 bytes): soft 20, not retried", async () => {
        // Only reachable by raising the plaintext limit: by default the channel refuses first.
        const outcome = await sendOne(
          message(await mint({ behaviour: "accept" }), { title: "a".repeat(4000) }),
          { maxPlaintextBytes: 8000 },
        );
        expect(outcome).toMatchObject({ kind: "refused", input: { status: 413 } });
        expect(verdictOf(outcome)).toEqual(failure({ type: "soft", reason: 20, retry: "never" }));
      });
    });
  }

  it("an oversized payload is invalid and nothing is sent; the batch keeps its order", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const before = await sim.pushTotal();
    const big = message(sub, { title: "t", body: "é".repeat(2000) });
    const small = message(sub);
    const outcomes = await channel().send([big, small]);
    expect(outcomes).toEqual([
      {
        kind: "invalid",
        problem: "content",
        detail: expect.stringMatching(/^push payload is \d+ bytes, over the 3993/u),
      },
      { kind: "accepted", remoteId: expect.any(String) },
    ]);
    expect(await sim.pushTotal()).toBe(before + 1);
    expect(await sim.ledger(token(big))).toEqual([]);
  });

  it("missing subscription keys or an endpoint that is not a URL: invalid, not sent", async () => {
    const sub = await sim.mint({ behaviour: "accept" });
    const c = channel();
    const noKeys = { ...message(sub), addressData: null };
    const notUrl = { ...message(sub), address: "not a url" };
    expect(await c.send([noKeys, notUrl])).toEqual([
      { kind: "invalid", problem: "content", detail: expect.stringMatching(/p256dh/u) },
      { kind: "invalid", problem: "content", detail: "push endpoint is not a URL" },
    ]);
  });

  it("a forbidden endpoint (127.0.0.1, empty allow list) is a transport outcome and reaches nothing", async () => {
    const before = await sim.pushTotal();
    const c = channel({ allow: [] });
    const subs = [await sim.mint({ behaviour: "accept" }), await sim.mint({ tls: true })];
    const outcomes = await c.send(subs.map((s) => message(s)));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        kind: "transport",
        input: { channel: "push", kind: "network", code: FORBIDDEN_ADDRESS },
      });
      expect(verdictOf(outcome)).toEqual(failure({ type: "ignored", reason: 3 }));
    }
    expect(await sim.pushTotal()).toBe(before);
  });

  it("a public name that resolves to loopback at connect time is refused by the guarded lookup", async () => {
    const before = await sim.pushTotal();
    const sub = await sim.mint({ behaviour: "accept", tls: true });
    const rebound = { ...sub, endpoint: sub.endpoint.replace("127.0.0.1", "push.example.com") };
    let lookups = 0;
    const outcome = await sendOne(message(rebound), {
      allow: [],
      // DNS rebinding: a name that looked public at intake points inside now.
      lookup:
        ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
          lookups++;
          const address: LookupAddress = { address: "127.0.0.1", family: 4 };
          if (options.all) callback(null, [address]);
          else callback(null, address.address, address.family);
        }) as never,
    });
    expect(lookups).toBeGreaterThan(0);
    expect(outcome).toMatchObject({
      kind: "transport",
      input: { code: FORBIDDEN_ADDRESS, text: expect.stringContaining("push.example.com") },
    });
    expect(await sim.pushTotal()).toBe(before);
  });

  it("https verifies the certificate unless told: untrusted is a transport outcome, off is accepted", async () => {
    const sub = await sim.mint({ behaviour: "accept", tls: true });
    const untrusted = await sendOne(message(sub), { tls: {} });
    expect(untrusted).toMatchObject({
      kind: "transport",
      input: { code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/u) },
    });
    expect(verdictOf(untrusted)).toEqual(failure({ type: "ignored", reason: 3 }));
    expect(await sendOne(message(sub), { tls: { rejectUnauthorized: false } })).toMatchObject({
      kind: "accepted",
    });
  });

  it("a closed port is a transport outcome (ECONNREFUSED), ignored 3", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const sub = await sim.mint({ behaviour: "accept" });
    const outcome = await sendOne(
      message({ ...sub, endpoint: `http://127.0.0.1:${port}/push/${sub.id}` }),
    );
    expect(outcome).toMatchObject({ kind: "transport", input: { code: "ECONNREFUSED" } });
    expect(verdictOf(outcome)).toEqual(failure({ type: "ignored", reason: 3, retry: "schedule" }));
  });

  it("signs one VAPID token per origin across a batch of 1,000 (http and https)", async () => {
    const signed: string[] = [];
    const sign = webPushSigner(vapid);
    const c = channel({
      sign: (audience, expiresAt) => {
        signed.push(audience);
        return sign(audience, expiresAt);
      },
    });
    const subs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sim.mint({ behaviour: "accept", tls: i % 2 === 1 })),
    );
    const batch = Array.from({ length: 1000 }, (_, i) => message(subs[i % subs.length]!));
    const outcomes = await c.send(batch);
    expect(outcomes.filter((o) => o.kind === "accepted")).toHaveLength(1000);
    expect(signed.sort()).toEqual([sim.http, sim.https].sort());
    await c.send(batch.slice(0, 10));
    expect(signed).toHaveLength(2);
  });

  it("429 with Retry-After holds the origin: answered at once without a request, then resumes", async () => {
    let now = Date.now();
    const c = channel({ now: () => now, maxInFlight: 1 });
    const limited = await sim.mint({ behaviour: "rateLimited" });
    const fine = await sim.mint({ behaviour: "accept" });
    const before = await sim.pushTotal();
    const batch = [message(limited), ...Array.from({ length: 9 }, () => message(fine))];
    const outcomes = await c.send(batch);
    expect(outcomes[0]).toMatchObject({
      kind: "refused",
      input: { status: 429, retryAfterMs: 2000, body: expect.stringContaining("(simulated)") },
    });
    for (const outcome of outcomes.slice(1)) {
      expect(outcome).toMatchObject({
        kind: "refused",
        input: { status: 429, retryAfterMs: 2000, body: expect.stringMatching(/^not sent/u) },
      });
      expect(verdictOf(outcome)).toEqual(
        failure({ type: "ignored", reason: 3, retry: "backoff", retryAfterMs: 2000 }),
      );
    }
    // One request for ten messages: the storm cost nothing more.
    expect(await sim.pushTotal()).toBe(before + 1);
    expect(await sim.ledger(token(batch[1]!))).toEqual([]);
    // Other origins are not held.
    expect(c.backingOff(sim.https)).toBe(0);
    expect((await c.send([message(await sim.mint({ behaviour: "accept", tls: true }))]))[0])
      .toMatchObject({ kind: "accepted" });

    now += 1500;
    const [waiting] = await c.send([message(fine)]);
    expect(waiting).toMatchObject({ kind: "refused", input: { status: 429, retryAfterMs: 500 } });
    now += 500;
    expect(c.backingOff(sim.http)).toBe(0);
    const again = message(fine);
    expect(await c.send([again])).toMatchObject([{ kind: "accepted" }]);
    expect(await sim.ledger(token(again))).toMatchObject([{ outcome: "accept" }]);
  });

  it("sends a batch of 2,000 concurrently: 2,000 accepted, exactly 2,000 ledger entries", async () => {
    const subs = await Promise.all(
      Array.from({ length: 25 }, (_, i) => sim.mint({ behaviour: "accept", tls: i % 5 === 0 })),
    );
    const start = await sim.pushTotal();
    const batch = Array.from({ length: 2000 }, (_, i) => message(subs[i % subs.length]!));
    const outcomes = await channel({ maxInFlight: 64, maxSocketsPerOrigin: 16 }).send(batch);
    expect(outcomes.every((o) => o.kind === "accepted")).toBe(true);
    expect(await sim.pushTotal()).toBe(start + 2000);
    const seen = new Map<string, number>();
    let cursor = 0;
    for (;;) {
      const page = await sim.control<{ items: { id: string }[]; next: number }>(
        `/ledger?since=${cursor}&limit=10000`,
      );
      for (const entry of page.items) seen.set(entry.id, (seen.get(entry.id) ?? 0) + 1);
      if (page.items.length === 0) break;
      cursor = page.next;
    }
    for (const m of batch) expect(seen.get(token(m)), token(m)).toBe(1);
  });

  it("close() lets sends in flight finish, then refuses new ones", async () => {
    const c = channel();
    const sub = await sim.mint({ behaviour: "accept" });
    const sending = c.send([message(sub), message(sub)]);
    const closing = c.close();
    expect(await sending).toMatchObject([{ kind: "accepted" }, { kind: "accepted" }]);
    await closing;
    await expect(c.send([message(sub)])).rejects.toThrow(/closed/u);
  });

  it("refuses a VAPID configuration whose keys do not match, at creation", () => {
    expect(() => channel({ vapid: { ...vapid, publicKey: otherKeys.publicKey } })).toThrow(
      /not the public key/u,
    );
  });
});

describe("push channel: timeouts", () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await simulator({ push: { latency: { minMs: 400, maxMs: 400 } } });
  });
  afterAll(() => sim.close());

  it("no answer within timeoutMs is a transport outcome (ETIMEDOUT), ignored 3", async () => {
    const c = createPushChannel({
      vapid,
      tokenSecret: SECRET,
      allow: loopback,
      timeoutMs: 100,
    });
    try {
      const started = Date.now();
      const [outcome] = await c.send([message(await sim.mint({ behaviour: "accept" }))]);
      expect(Date.now() - started).toBeLessThan(350);
      expect(outcome).toMatchObject({
        kind: "transport",
        input: { channel: "push", kind: "network", code: "ETIMEDOUT" },
      });
      expect(verdictOf(outcome!)).toEqual(
        failure({ type: "ignored", reason: 3, retry: "schedule" }),
      );
    } finally {
      await c.close();
    }
  });
});
