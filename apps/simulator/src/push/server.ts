import { randomUUID } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { decryptAes128gcm, VapidVerifier } from "@sendgate/channels";
import { localCertificate } from "../certificate.ts";
import { activeFault } from "../clock.ts";
import type { SimulatorContext } from "../context.ts";
import type { RunningServer } from "../control.ts";
import type { LedgerEntry } from "../ledger.ts";
import { type PushOutcome, pushOutcomes, pushProtocolAnswers } from "../outcomes.ts";
import { between } from "../random.ts";
import { type Subscription, SubscriptionStore } from "./subscriptions.ts";

export { registerPushControl } from "./control.ts";
export { SubscriptionStore } from "./subscriptions.ts";

export interface PushServiceOptions {
  host?: string;
  /** Plain HTTP port (0: any free port). */
  port?: number;
  /** HTTPS port (0: any free port; null: no HTTPS listener). */
  tlsPort?: number | null;
  /** Keep the verdict of a VAPID token already verified (default true); see `VapidVerifier`. */
  vapidCache?: boolean;
}

export interface RunningPushService extends RunningServer {
  port: number;
  tlsPort: number | null;
  /** Requests the protocol itself refused or could not read (400/401/403/404/405/413, broken HTTP). */
  readonly protocolErrors: number;
  /** Connections closed at once by a drop, refuse or restart fault. */
  readonly droppedConnections: number;
  subscriptions: SubscriptionStore;
  /** The HTTPS certificate (PEM, self-signed for 127.0.0.1, ::1 and localhost): trust it in clients. */
  certificate: string | null;
}

/** RFC 8030 §7.2 and RFC 8291 §4: 4096 bytes of encrypted body, so 3993 bytes of plaintext. */
export const MAX_BODY_BYTES = 4096;

const outcomeStatus: Record<PushOutcome, number> = {
  accept: 201,
  gone: 410,
  notFound: 404,
  rateLimited: 429,
  serverError: 500,
  unavailable: 503,
};
const URGENCIES = new Set(["very-low", "low", "normal", "high"]);
const PATH = /^\/push\/([A-Za-z0-9_-]{1,128})(?:\?.*)?$/u;
const FAULT_POLL_MS = 10;

interface Listener {
  server: Server;
  scheme: "http" | "https";
  port: number;
  /** The origin endpoints carry, which is also the VAPID `aud` expected. */
  origin: string;
  state: "starting" | "listening" | "closing" | "closed";
}

/**
 * The push service (RFC 8030) on loopback: plain HTTP for speed, HTTPS with a certificate made at
 * start, both keep-alive. Every POST to an endpoint is checked as a real push service would
 * (headers, size, VAPID, decryption), then answered with the subscription's behaviour or the
 * scenario's mix, and recorded in the ledger. The order of checks: path and method, headers
 * (400), size (413), VAPID (401/403), subscription unknown (404) or ended (410), decryption (400):
 * the subscription comes before decryption because its private key is what decrypts.
 */
export async function startPushService(
  ctx: SimulatorContext,
  options: PushServiceOptions = {},
): Promise<RunningPushService> {
  const host = options.host ?? "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const vapid = new VapidVerifier(options.vapidCache ?? true);
  let protocolErrors = 0;
  let droppedConnections = 0;
  let closed = false;
  /** Requests held unanswered by a stall fault, released (their socket closed) when it ends. */
  const stalled = new Set<ServerResponse>();

  const listeners: Listener[] = [];
  const http = createHttpServer({ keepAlive: true });
  listeners.push({
    server: http,
    scheme: "http",
    port: options.port ?? 0,
    origin: "",
    state: "closed",
  });
  let certificate: string | null = null;
  if (options.tlsPort !== null) {
    const pems = await localCertificate();
    certificate = pems.cert;
    const https = createHttpsServer({ key: pems.key, cert: pems.cert, keepAlive: true });
    listeners.push({
      server: https,
      scheme: "https",
      port: options.tlsPort ?? 0,
      origin: "",
      state: "closed",
    });
  }

  for (const listener of listeners) {
    const { server } = listener;
    server.keepAliveTimeout = 30_000;
    server.on("connection", (socket: Socket) => {
      const fault = currentFault();
      if (fault === "drop" || fault === "refuse" || fault === "restart") {
        droppedConnections++;
        socket.destroy();
      }
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      handle(req, res, listener).catch((error) => {
        console.error("simulator push: request failed", error);
        send(res, 500, "internal error in the simulator");
      });
    });
    // Broken HTTP (or TLS) never reaches a handler: count it, answer if the socket still can.
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
      // A client that hangs up is not a protocol error.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return socket.destroy();
      protocolErrors++;
      if (socket.writable) {
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      } else socket.destroy();
    });
    server.on("tlsClientError", () => protocolErrors++);
    server.on("close", () => listener.state = "closed");
    await listen(listener);
    listener.port = (server.address() as { port: number }).port;
    listener.origin = `${listener.scheme}://${urlHost}:${listener.port}`;
  }
  const httpListener = listeners[0]!;
  const httpsListener = listeners[1] ?? null;
  const subscriptions = new SubscriptionStore({
    http: httpListener.origin,
    https: httpsListener?.origin ?? null,
  });

  function currentFault() {
    return activeFault(ctx.scenario.push.faults, ctx.scheduler.elapsed())?.kind ?? null;
  }

  function listen(listener: Listener): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        listener.state = "closed";
        reject(error);
      };
      listener.server.once("error", onError);
      listener.server.listen(listener.port, host, () => {
        listener.server.off("error", onError);
        listener.state = "listening";
        resolve();
      });
    });
  }

  // Faults act on connections, so they are applied as the schedule says, not only when a request
  // comes: a poll (cheap, unref'd) follows the scenario, which may be replaced at run time.
  const poll = setInterval(() => {
    if (closed) return;
    const fault = currentFault();
    if (fault !== "stall") {
      for (const res of stalled) res.socket?.destroy();
      stalled.clear();
    }
    for (const listener of listeners) {
      if (fault === "drop" || fault === "restart") listener.server.closeAllConnections();
      if (fault === "restart" && listener.state === "listening") {
        listener.state = "closing";
        listener.server.close();
        listener.server.closeAllConnections();
      } else if (fault !== "restart" && listener.state === "closed") {
        listener.state = "starting";
        listen(listener).catch((error) =>
          console.error(`simulator push: cannot listen again on ${listener.port}`, error)
        );
      }
    }
  }, FAULT_POLL_MS);
  poll.unref();

  function send(
    res: ServerResponse,
    status: number,
    message: string | null,
    headers: Record<string, string> = {},
  ) {
    if (res.destroyed || res.writableEnded) return;
    if (message === null) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    // The shape autopush (Mozilla's push service) uses for its errors.
    const body = JSON.stringify({ code: status, error: STATUS_CODES[status] ?? "", message });
    res.writeHead(status, { ...headers, "content-type": "application/json" });
    res.end(body);
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    listener: Listener,
  ): Promise<void> {
    const match = PATH.exec(req.url ?? "");
    if (!match) {
      protocolErrors++;
      return send(res, 404, `no push endpoint at ${req.url}`);
    }
    if (req.method !== "POST") {
      protocolErrors++;
      return send(res, 405, "push messages are POSTed (RFC 8030 §5)", { allow: "POST" });
    }
    const receivedAt = new Date().toISOString();
    const subscriptionId = match[1]!;
    const subscription = subscriptions.get(subscriptionId);
    const recipient = subscription?.endpoint ?? `${listener.origin}/push/${subscriptionId}`;
    const messageId = randomUUID();
    const headerId = req.headers["x-sendgate-id"];
    let correlationId =
      typeof headerId === "string" && headerId.length > 0 && headerId.length <= 256
        ? headerId
        : messageId;
    const extra: Record<string, unknown> = {
      subscription: subscriptionId,
      listener: listener.scheme,
      messageId,
    };

    const record = (
      outcome: string,
      decidedBy: LedgerEntry["decidedBy"],
      sync: LedgerEntry["sync"],
      expected: LedgerEntry["expected"],
    ) =>
      ctx.ledger.add({
        id: correlationId,
        channel: "push",
        recipient,
        // Every entry for an endpoint takes an occurrence number, as decide() does.
        occurrence: ctx.ledger.occurrence("push", subscriptionId),
        outcome,
        decidedBy,
        receivedAt,
        sync,
        expected,
        extra,
      });

    const refuse = (answer: keyof typeof pushProtocolAnswers, message: string) => {
      protocolErrors++;
      const { status, expected } = pushProtocolAnswers[answer];
      extra.error = message;
      record(answer, "protocol", { http: status }, expected);
      send(res, status, message);
    };

    // Faults first: they are about the service, not the message.
    const fault = currentFault();
    if (fault === "drop" || fault === "restart") {
      extra.fault = fault;
      record(
        "drop",
        "protocol",
        { none: "connection dropped (fault)" },
        pushOutcomes.unavailable.expected,
      );
      req.socket.destroy();
      return;
    }
    if (fault === "stall") {
      extra.fault = fault;
      record(
        "stall",
        "protocol",
        { none: "no answer (stall fault)" },
        pushOutcomes.unavailable.expected,
      );
      stalled.add(res);
      return;
    }
    if (fault === "refuse") {
      extra.fault = fault;
      record("unavailable", "protocol", { http: 503 }, pushOutcomes.unavailable.expected);
      send(res, 503, "service unavailable (refuse fault)", { connection: "close" });
      return;
    }

    // RFC 8030 §5.2: TTL is required; §5.3 Urgency, §5.4 Topic; RFC 8291: aes128gcm only.
    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== "string" || !/^\d{1,10}$/u.test(ttlHeader.trim())) {
      return refuse("badRequest", "TTL header missing or not a number of seconds");
    }
    const ttl = Number(ttlHeader.trim());
    const urgency = (req.headers.urgency ?? "normal").toString().trim().toLowerCase();
    if (!URGENCIES.has(urgency)) {
      return refuse("badRequest", "Urgency must be very-low, low, normal or high");
    }
    const topicHeader = req.headers.topic;
    const topic = typeof topicHeader === "string" ? topicHeader.trim() : null;
    if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/u.test(topic)) {
      return refuse("badRequest", "Topic must be at most 32 base64url characters");
    }
    const encoding = req.headers["content-encoding"]?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== "aes128gcm") {
      return refuse("badRequest", `Content-Encoding ${encoding} not supported (aes128gcm only)`);
    }
    Object.assign(extra, { ttl, urgency, topic });

    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      extra.encryptedBytes = declared;
      return refuse("tooLarge", `body of ${declared} bytes exceeds ${MAX_BODY_BYTES}`);
    }
    let body: Buffer | null;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      protocolErrors++; // the client went away mid-body: nothing was delivered, nothing to answer
      return;
    }
    if (body === null) return refuse("tooLarge", `body exceeds ${MAX_BODY_BYTES} bytes`);
    extra.encryptedBytes = body.length;
    if (body.length > 0 && encoding === undefined) {
      return refuse("badRequest", "a payload needs Content-Encoding: aes128gcm");
    }

    const audiences = [listener.origin];
    if (req.headers.host) audiences.push(`${listener.scheme}://${req.headers.host}`);
    const verdict = vapid.verify(req.headers.authorization, audiences);
    if (!verdict.ok) {
      return refuse(verdict.status === 401 ? "unauthorized" : "forbidden", verdict.error);
    }
    extra.vapidSub = verdict.claims.sub;
    if (
      subscription?.applicationServerKey && subscription.applicationServerKey !== verdict.publicKey
    ) {
      return refuse("forbidden", "the VAPID key is not the one this subscription was created for");
    }

    if (!subscription) {
      protocolErrors++;
      record("notFound", "protocol", { http: 404 }, pushOutcomes.notFound.expected);
      return send(res, 404, "no such subscription");
    }
    if (subscription.state !== "active") {
      extra.state = subscription.state;
      record("gone", "subscription", { http: 410 }, pushOutcomes.gone.expected);
      return send(res, 410, `subscription ${subscription.state}`);
    }

    let plaintext: Buffer = Buffer.alloc(0);
    if (body.length > 0) {
      const decrypted = decryptAes128gcm(body, subscription);
      if (!decrypted.ok) return refuse("badRequest", `cannot decrypt: ${decrypted.error}`);
      plaintext = decrypted.plaintext;
    }
    const json = payloadJson(plaintext);
    // Size and field names only: the payload itself stays out of the ledger.
    extra.payloadBytes = plaintext.length;
    extra.jsonKeys = json ? Object.keys(json) : null;
    if (correlationId === messageId && json) {
      const fromPayload = json.sendgateId ?? json.id;
      if (typeof fromPayload === "string" || typeof fromPayload === "number") {
        correlationId = String(fromPayload);
      }
    }

    await answer(res, listener, subscription, {
      receivedAt,
      messageId,
      ttl,
      urgency,
      topic,
      plaintext,
      extra,
      correlationId,
    });
  }

  async function answer(
    res: ServerResponse,
    listener: Listener,
    subscription: Subscription,
    m: {
      receivedAt: string;
      messageId: string;
      ttl: number;
      urgency: string;
      topic: string | null;
      plaintext: Buffer;
      extra: Record<string, unknown>;
      correlationId: string;
    },
  ) {
    const scenario = ctx.scenario;
    const magic = subscription.behaviour === "mix" ? null : subscription.behaviour;
    const decision = ctx.decide<PushOutcome>(
      "push",
      subscription.id,
      scenario.push.mix,
      magic,
      "accept",
    );
    const status = outcomeStatus[decision.outcome];
    const headers: Record<string, string> = {};
    if (decision.outcome === "accept") {
      headers.location = `${listener.origin}/message/${m.messageId}`;
      headers.ttl = String(m.ttl);
      m.extra.location = headers.location;
      subscriptions.keep(subscription, {
        id: m.correlationId,
        messageId: m.messageId,
        receivedAt: m.receivedAt,
        ttl: m.ttl,
        urgency: m.urgency,
        topic: m.topic,
        text: m.plaintext.toString("utf8"),
        base64: m.plaintext.toString("base64"),
      });
    }
    if (decision.outcome === "rateLimited") {
      headers["retry-after"] = String(scenario.push.retryAfterSeconds);
      m.extra.retryAfterSeconds = scenario.push.retryAfterSeconds;
    }
    const latency = between(scenario.push.latency, decision.draw("latency"));
    if (latency > 0) m.extra.latencyMs = latency;
    ctx.ledger.add({
      id: m.correlationId,
      channel: "push",
      recipient: subscription.endpoint,
      occurrence: decision.occurrence,
      outcome: decision.outcome,
      decidedBy: magic ? "subscription" : "mix",
      receivedAt: m.receivedAt,
      sync: { http: status },
      expected: pushOutcomes[decision.outcome].expected,
      extra: m.extra,
    });
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    send(res, status, status === 201 ? null : `${decision.outcome} (simulated)`, headers);
  }

  return {
    urls: listeners.map((l) => l.origin),
    port: httpListener.port,
    tlsPort: httpsListener?.port ?? null,
    get protocolErrors() {
      return protocolErrors;
    },
    get droppedConnections() {
      return droppedConnections;
    },
    subscriptions,
    certificate,
    async close() {
      closed = true;
      clearInterval(poll);
      for (const res of stalled) res.socket?.destroy();
      stalled.clear();
      await Promise.all(listeners.map((listener) =>
        new Promise<void>((resolve) => {
          if (listener.state === "closed") return resolve();
          listener.server.close(() => resolve());
          listener.server.closeAllConnections();
        })
      ));
    },
  };
}

/** Reads a body up to `limit` bytes; `null` when it is longer (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => {
      ended = true;
      resolve(size > limit ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on("error", reject);
    req.on("close", () => {
      if (!ended) reject(new Error("request closed before its end"));
    });
  });
}

function payloadJson(plaintext: Buffer): Record<string, unknown> | null {
  if (plaintext.length === 0 || plaintext[0] !== 0x7b) return null; // "{"
  try {
    const value: unknown = JSON.parse(plaintext.toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
}
