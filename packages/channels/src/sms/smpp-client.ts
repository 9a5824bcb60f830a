import type { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { setImmediate } from "node:timers";
import {
  type BindMode,
  commandId,
  commandStatus,
  decodeBindResp,
  decodeDeliverSm,
  decodeSubmitSmResp,
  type DeliverSm,
  encodeBind,
  encodeDeliverSmResp,
  encodeEnquireLink,
  encodeEnquireLinkResp,
  encodeGenericNack,
  encodeSubmitSm,
  encodeUnbind,
  encodeUnbindResp,
  MalformedPdu,
  type SubmitSmFields,
} from "./codec.ts";
import { Deque, FrameReader } from "./frames.ts";
import { backoffDelay, Pacer } from "./pacing.ts";

/**
 * One SMPP 3.4 session (a bind) as an ESME: TCP on `node:net`, PDUs through the direct codec.
 * Written here rather than on the smpp package's Session, which has no response timeouts (a
 * callback never fires after a dropped link), no reconnect, no window, and stops reading for
 * good after one malformed PDU (its error event kills an unguarded process).
 *
 * What it guarantees:
 * - `submit` never rejects and always settles: accepted with the SMSC's id, refused with its
 *   command_status, timed out, or dropped with the link — `written` saying whether its bytes
 *   were handed to the socket (so whether it may have reached the SMSC).
 * - At most `window` submit_sm wait for their response; the rest queue, and stay queued across a
 *   reconnection. `throughput` caps submits per second; a throttle answer (ESME_RTHROTTLED,
 *   ESME_RMSGQFUL) slows the bind (Pacer) and the same PDU goes again, up to `throttleTries`
 *   times in all, before its status is returned: the SMSC's flow control is not the message's
 *   failure.
 * - Reconnects with capped exponential back-off and full jitter; a bind refused for its
 *   credentials waits the longest back-off each time, and says `bindRefused`.
 * - A deliver_sm is acknowledged (deliver_sm_resp 0) only once `onDeliver` resolved, i.e. once
 *   the caller stored it; ESME_RX_T_APPN when it rejected, so the SMSC delivers it again.
 * - Answers the SMSC's enquire_link and unbind; generic_nack ESME_RINVCMDID to a command it does
 *   not know, ESME_RINVCMDLEN to a body that does not parse (the framing holds, the link stays);
 *   a frame length that cannot be true loses the framing: nack, then the link is dropped.
 *
 * The clock (`now`) and `random` come in as options, for tests.
 */

export type BindState = "connecting" | "bound" | "backoff" | "closed";

export type SubmitResult =
  | { kind: "ok"; messageId: string }
  | { kind: "error"; commandStatus: number }
  /** No response within responseTimeoutMs: the SMSC may or may not have the message. */
  | { kind: "timeout" }
  /** The link went (or the bind closed) first; `written`: its bytes had been handed to the socket. */
  | { kind: "dropped"; written: boolean };

/** A submit_sm's fields, less the sequence number (the bind numbers its PDUs). */
export type SubmitRequest = Omit<SubmitSmFields, "sequence">;

export interface BindError {
  kind: "connect" | "bindRefused" | "timeout" | "protocol" | "closed";
  message: string;
  commandStatus?: number;
  /** Milliseconds since the epoch (the `now` option's clock). */
  at: number;
}

export type BindLog = (
  level: "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface SmppBindOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  addressRange?: string;
  addrTon?: number;
  addrNpi?: number;
  /** transceiver by default; a transmitter + receiver pair is two binds, one of each. */
  mode?: BindMode;
  /** submit_sm outstanding at once; 10. */
  window?: number;
  /** Per response (bind, submit, enquire_link, unbind); 10 s. */
  responseTimeoutMs?: number;
  /** enquire_link after this long without traffic; 30 s. */
  enquireLinkMs?: number;
  /** TCP connect; 10 s. */
  connectTimeoutMs?: number;
  /** Reconnect back-off: first ceiling and cap; 500 ms and 30 s. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Submits per second at most; 0 or undefined: no cap. */
  throughput?: number;
  /** Tries of one submit against ESME_RTHROTTLED / ESME_RMSGQFUL, the first included; 5. */
  throttleTries?: number;
  /**
   * A submit not written within this long (window full, link down) settles `dropped` with
   * `written: false`, so that the caller may give it to another provider; 60 s.
   */
  queueTimeoutMs?: number;
  /** Resolves once the deliver_sm is stored; without it every deliver_sm gets ESME_RX_T_APPN. */
  onDeliver?: (pdu: DeliverSm) => Promise<void>;
  onStateChange?: (state: BindState, bind: SmppBind) => void;
  log?: BindLog;
  now?: () => number;
  random?: () => number;
}

/** command_status values that say "slow down", not "no". */
const THROTTLING = new Set<number>([commandStatus.throttled, commandStatus.queueFull]);
/** A bind refused for what it presented: retrying soon cannot help. */
const CREDENTIALS = new Set<number>([
  commandStatus.invalidPassword,
  commandStatus.invalidSystemId,
  commandStatus.invalidSystemType,
]);
/** Corked writes let out together: one writev for a burst, the first answers soon enough. */
const FLUSH_EVERY = 32;

interface Queued {
  request: SubmitRequest;
  resolve: (result: SubmitResult) => void;
  tries: number;
  enqueuedAt: number;
}

type Pending =
  | { kind: "submit"; deadline: number; queued: Queued }
  | { kind: "bind" | "enquire" | "unbind"; deadline: number };

export interface BindCounters {
  submitted: number;
  accepted: number;
  refused: number;
  throttled: number;
  timeouts: number;
  dropped: number;
  delivered: number;
  binds: number;
  bindsRefused: number;
  protocolErrors: number;
}

const defaultLog: BindLog = (level, message, fields) => {
  if (level === "info") return;
  console.warn(`smpp: ${message}`, fields ?? "");
};

export class SmppBind {
  readonly window: number;
  readonly mode: BindMode;
  readonly counters: BindCounters = {
    submitted: 0,
    accepted: 0,
    refused: 0,
    throttled: 0,
    timeouts: 0,
    dropped: 0,
    delivered: 0,
    binds: 0,
    bindsRefused: 0,
    protocolErrors: 0,
  };
  readonly #o: SmppBindOptions;
  readonly #now: () => number;
  readonly #log: BindLog;
  readonly #responseTimeoutMs: number;
  readonly #enquireLinkMs: number;
  readonly #queueTimeoutMs: number;
  readonly #throttleTries: number;
  readonly #pacer: Pacer;
  readonly #queue = new Deque<Queued>();
  readonly #pending = new Map<number, Pending>();
  #state: BindState = "backoff";
  #socket: Socket | null = null;
  #reader = new FrameReader();
  #sequence = 0;
  #inFlight = 0;
  #attempt = 0;
  #boundSince: number | null = null;
  #lastError: BindError | null = null;
  #lastTraffic = 0;
  #corked = false;
  #held = 0;
  #started = false;
  #closing: Promise<void> | null = null;
  #deliveries = 0;
  #refusedForCredentials = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #pumpTimer: ReturnType<typeof setTimeout> | null = null;
  #tick: ReturnType<typeof setInterval> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Sequence numbers of the enquire_link and unbind waiting for their response. */
  #enquiring: number | null = null;
  #unbinding: { sequence: number; done: () => void } | null = null;
  /** Why the current connection ends, when we know it before the socket closes. */
  #cause: BindError | null = null;
  /** A socket whose framing was lost: nothing more is read from it. */
  #deaf: Socket | null = null;

  constructor(options: SmppBindOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? defaultLog;
    this.window = Math.max(1, options.window ?? 10);
    this.mode = options.mode ?? "transceiver";
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 10_000;
    this.#enquireLinkMs = options.enquireLinkMs ?? 30_000;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? 60_000;
    this.#throttleTries = Math.max(1, options.throttleTries ?? 5);
    this.#pacer = new Pacer({ rate: options.throughput, now: this.#now });
  }

  get state(): BindState {
    return this.#state;
  }
  /** submit_sm written and waiting for their response. */
  get inFlight(): number {
    return this.#inFlight;
  }
  /** Submits waiting for a window slot, the throughput cap or a bound link. */
  get queued(): number {
    return this.#queue.length;
  }
  /** When the current session bound (the `now` clock), null when not bound. */
  get boundSince(): number | null {
    return this.#boundSince;
  }
  get lastError(): BindError | null {
    return this.#lastError;
  }
  /** Submits per second the bind allows itself now (Infinity: no cap). */
  get rate(): number {
    return this.#pacer.rate;
  }

  /** Connects and binds, and keeps doing so until `close`. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    const every = Math.min(this.#responseTimeoutMs, this.#enquireLinkMs, this.#queueTimeoutMs);
    this.#tick = setInterval(() => this.#housekeeping(), Math.max(5, Math.min(1_000, every / 4)));
    this.#tick.unref?.();
    this.#connect();
    return this;
  }

  /** Sends one submit_sm when the window, the cap and the link allow. Never rejects. */
  submit(request: SubmitRequest): Promise<SubmitResult> {
    if (this.#closing || this.#state === "closed") {
      return Promise.resolve({ kind: "dropped", written: false });
    }
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve, tries: 0, enqueuedAt: this.#now() });
      this.#pump();
    });
  }

  /** Settles every submit not written yet as dropped (written: false); how many there were. */
  abandonQueued(): number {
    const items = this.#queue.drain();
    for (const q of items) q.resolve({ kind: "dropped", written: false });
    this.counters.dropped += items.length;
    return items.length;
  }

  /**
   * Stops taking submits (those queued settle dropped, not written), waits for the ones in
   * flight (each bounded by its response timeout), unbinds and closes the socket.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.abandonQueued();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const socket = this.#socket;
    if (socket && this.#state === "bound") {
      await this.#whenIdle(this.#responseTimeoutMs);
      if (this.#socket === socket && this.#state === "bound") {
        const sequence = this.#nextSequence();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(this.#responseTimeoutMs, 2_000));
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.#unbinding = { sequence, done };
          socket.once("close", done);
          this.#write(encodeUnbind(sequence));
        });
        this.#unbinding = null;
      }
    }
    if (this.#socket) {
      const s = this.#socket;
      await new Promise<void>((resolve) => {
        if (s.destroyed) return resolve();
        s.once("close", () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 500).unref?.();
      });
    }
    if (this.#tick) clearInterval(this.#tick);
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    this.#setState("closed");
  }

  /** Resolves when nothing is in flight and no deliver_sm waits for its answer, or after `ms`. */
  #whenIdle(ms: number): Promise<void> {
    if (this.#inFlight === 0 && this.#deliveries === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(done);
    });
  }

  #checkIdle() {
    if (this.#inFlight > 0 || this.#deliveries > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #setState(state: BindState) {
    if (this.#state === state) return;
    this.#state = state;
    this.#boundSince = state === "bound" ? this.#now() : null;
    try {
      this.#o.onStateChange?.(state, this);
    } catch (error) {
      this.#log("error", "onStateChange threw", { error: String(error) });
    }
  }

  /** Records why the current connection fails or ends; the first reason given wins. */
  #error(kind: BindError["kind"], message: string, commandStatus?: number) {
    if (this.#cause) return;
    this.#cause = { kind, message, at: this.#now() };
    if (commandStatus !== undefined) this.#cause.commandStatus = commandStatus;
    this.#lastError = this.#cause;
  }

  #nextSequence(): number {
    this.#sequence = this.#sequence >= 0x7fffffff ? 1 : this.#sequence + 1;
    return this.#sequence;
  }

  #connect() {
    this.#reconnectTimer = null;
    if (this.#closing) return;
    this.#setState("connecting");
    this.#reader = new FrameReader();
    this.#refusedForCredentials = false;
    this.#cause = null;
    this.#enquiring = null;
    const socket = connect({ host: this.#o.host, port: this.#o.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    this.#connectTimer = setTimeout(() => {
      this.#error("connect", `connect to ${this.#o.host}:${this.#o.port} timed out`);
      socket.destroy();
    }, this.#o.connectTimeoutMs ?? 10_000);
    socket.once("connect", () => {
      if (this.#connectTimer) clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
      const seq = this.#nextSequence();
      this.#pending.set(seq, { kind: "bind", deadline: this.#now() + this.#responseTimeoutMs });
      this.#write(encodeBind({
        sequence: seq,
        mode: this.mode,
        systemId: this.#o.systemId,
        password: this.#o.password,
        systemType: this.#o.systemType ?? "",
        interfaceVersion: 0x34,
        addrTon: this.#o.addrTon ?? 0,
        addrNpi: this.#o.addrNpi ?? 0,
        addressRange: this.#o.addressRange ?? "",
      }));
    });
    socket.on("data", (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const text = `${error.code ?? "error"}: ${error.message}`;
      this.#error(this.#state === "connecting" ? "connect" : "closed", text);
    });
    socket.on("close", () => this.#onClose(socket));
  }

  #onClose(socket: Socket) {
    if (this.#socket !== socket) return;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    const wasBound = this.#state === "bound";
    this.#socket = null;
    this.#corked = false;
    // Everything written on this link is settled: it may have gone, the caller decides.
    for (const p of this.#pending.values()) {
      if (p.kind === "submit") {
        this.counters.dropped++;
        p.queued.resolve({ kind: "dropped", written: true });
      }
    }
    this.#pending.clear();
    this.#inFlight = 0;
    this.#checkIdle();
    if (this.#closing) return;
    if (wasBound) this.#error("closed", "the SMSC closed the link");
    else this.#error("connect", "the connection closed before the bind was answered");
    this.#setState("backoff");
    const { initialMs = 500, maxMs = 30_000 } = this.#o.reconnect ?? {};
    const delay = this.#refusedForCredentials
      ? maxMs
      : backoffDelay(this.#attempt++, initialMs, maxMs, this.#o.random);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    this.#reconnectTimer.unref?.();
  }

  /**
   * Drops the link (it reconnects after back-off). `flush`: let out what was written first (the
   * nack that says why), reading nothing more, and destroy the socket after a second at most.
   */
  #drop(kind: BindError["kind"], message: string, flush = false) {
    this.#error(kind, message);
    this.#log("warn", message, { host: this.#o.host, port: this.#o.port });
    const socket = this.#socket;
    if (!socket) return;
    if (!flush) {
      socket.destroy();
      return;
    }
    this.#deaf = socket;
    this.#corked = false;
    socket.uncork();
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref?.();
  }

  /** Whether a PDU written now would reach the socket. */
  #writable(): boolean {
    const socket = this.#socket;
    return socket !== null && socket !== this.#deaf && !socket.destroyed && socket.writable;
  }

  #write(frame: Buffer): boolean {
    const socket = this.#socket;
    if (!socket || !socket.writable) return false;
    if (!this.#corked) {
      this.#corked = true;
      this.#held = 0;
      socket.cork();
      setImmediate(() => {
        this.#corked = false;
        socket.uncork();
      });
    } else if (++this.#held >= FLUSH_EVERY) {
      this.#held = 0;
      socket.uncork();
      socket.cork();
    }
    socket.write(frame);
    this.#lastTraffic = this.#now();
    return true;
  }

  #onData(socket: Socket, chunk: Buffer) {
    if (this.#socket !== socket || this.#deaf === socket) return;
    this.#lastTraffic = this.#now();
    const lost = this.#reader.push(chunk, (frame) => {
      if (this.#socket === socket && this.#deaf !== socket) this.#onFrame(frame);
    });
    if (lost && this.#socket === socket) {
      this.counters.protocolErrors++;
      this.#write(encodeGenericNack(commandStatus.invalidCommandLength, lost.sequence));
      this.#drop("protocol", "a PDU length that cannot be true: SMPP framing lost", true);
    }
  }

  #onFrame(frame: Buffer) {
    const id = frame.readUInt32BE(4);
    const sequence = frame.readUInt32BE(12);
    try {
      switch (id) {
        case commandId.submitSmResp:
          return this.#onSubmitResp(frame);
        case commandId.deliverSm:
          return this.#onDeliverSm(frame, sequence);
        case commandId.enquireLink:
          this.#write(encodeEnquireLinkResp(sequence));
          return;
        case commandId.enquireLinkResp:
          if (this.#enquiring === sequence) {
            this.#pending.delete(sequence);
            this.#enquiring = null;
          }
          return;
        case commandId.unbindResp:
          this.#pending.delete(sequence);
          if (this.#unbinding?.sequence === sequence) this.#unbinding.done();
          return;
        case commandId.unbind:
          // The SMSC is going: answer, close, and come back after back-off.
          this.#write(encodeUnbindResp(sequence));
          this.#error("closed", "the SMSC unbound");
          this.#log("info", "the SMSC unbound", { host: this.#o.host, port: this.#o.port });
          this.#setState("backoff");
          this.#socket?.end();
          return;
        case commandId.genericNack:
          return this.#onNack(frame.readUInt32BE(8), sequence);
        case commandId.bindTransceiverResp:
        case commandId.bindTransmitterResp:
        case commandId.bindReceiverResp:
          return this.#onBindResp(frame);
        default:
          this.counters.protocolErrors++;
          if (id & 0x80000000) {
            this.#log("warn", "ignored a response nothing asked for", { commandId: id, sequence });
          } else {
            this.#log("warn", "refused a command it does not offer", { commandId: id, sequence });
            this.#write(encodeGenericNack(commandStatus.invalidCommandId, sequence));
          }
      }
    } catch (error) {
      this.counters.protocolErrors++;
      if (error instanceof MalformedPdu) {
        this.#log("warn", `refused a malformed PDU: ${error.message}`, { commandId: id, sequence });
        this.#write(encodeGenericNack(commandStatus.invalidCommandLength, sequence));
      } else {
        // A bug of ours costs one answer, never the process or the link.
        this.#log("error", "failed to handle a PDU", { commandId: id, error: String(error) });
        if (!(id & 0x80000000)) {
          this.#write(encodeGenericNack(commandStatus.systemError, sequence));
        }
      }
    }
  }

  #onBindResp(frame: Buffer) {
    const resp = decodeBindResp(frame);
    const pending = this.#pending.get(resp.sequence);
    if (pending?.kind !== "bind") {
      this.#log("warn", "ignored a bind response nothing asked for", { sequence: resp.sequence });
      return;
    }
    this.#pending.delete(resp.sequence);
    if (resp.status === 0) {
      this.#attempt = 0;
      this.counters.binds++;
      this.#setState("bound");
      this.#pump();
      return;
    }
    this.counters.bindsRefused++;
    this.#refusedForCredentials = CREDENTIALS.has(resp.status);
    this.#error(
      "bindRefused",
      `bind refused with command_status 0x${resp.status.toString(16).padStart(2, "0")}`,
      resp.status,
    );
    this.#log("warn", this.#lastError!.message, { systemId: this.#o.systemId });
    this.#socket?.destroy();
  }

  #onNack(status: number, sequence: number) {
    const pending = this.#pending.get(sequence);
    if (!pending) {
      this.counters.protocolErrors++;
      this.#log("warn", "generic_nack for nothing outstanding", { status, sequence });
      return;
    }
    this.#pending.delete(sequence);
    if (pending.kind === "submit") {
      this.#inFlight--;
      this.counters.refused++;
      pending.queued.resolve({
        kind: "error",
        commandStatus: status || commandStatus.invalidCommandId,
      });
      this.#checkIdle();
      this.#pump();
    } else if (pending.kind === "bind") {
      this.counters.bindsRefused++;
      this.#error("bindRefused", "bind answered with generic_nack", status);
      this.#socket?.destroy();
    }
  }

  #onSubmitResp(frame: Buffer) {
    const resp = decodeSubmitSmResp(frame);
    const pending = this.#pending.get(resp.sequence);
    if (pending?.kind !== "submit") {
      this.counters.protocolErrors++;
      this.#log("warn", "submit_sm_resp for an unknown sequence number, ignored", {
        sequence: resp.sequence,
        status: resp.status,
        messageId: resp.messageId,
      });
      return;
    }
    this.#pending.delete(resp.sequence);
    this.#inFlight--;
    const q = pending.queued;
    if (resp.status === 0) {
      this.counters.accepted++;
      this.#pacer.accepted();
      q.resolve({ kind: "ok", messageId: resp.messageId });
    } else if (THROTTLING.has(resp.status)) {
      this.counters.throttled++;
      this.#pacer.throttled();
      if (q.tries < this.#throttleTries && !this.#closing) this.#queue.unshift(q);
      else {
        this.counters.refused++;
        q.resolve({ kind: "error", commandStatus: resp.status });
      }
    } else {
      this.counters.refused++;
      q.resolve({ kind: "error", commandStatus: resp.status });
    }
    this.#checkIdle();
    this.#pump();
  }

  #onDeliverSm(frame: Buffer, sequence: number) {
    const pdu = decodeDeliverSm(frame); // MalformedPdu: nacked by #onFrame
    const socket = this.#socket;
    const onDeliver = this.#o.onDeliver;
    if (!onDeliver) {
      this.#log("warn", "deliver_sm with nowhere to store it: answered ESME_RX_T_APPN");
      this.#write(encodeDeliverSmResp(sequence, commandStatus.temporaryAppError));
      return;
    }
    this.#deliveries++;
    const answer = (status: number) => {
      this.#deliveries--;
      if (status === 0) this.counters.delivered++;
      // On the session it came by: a new session would not know the sequence number.
      if (this.#socket === socket) this.#write(encodeDeliverSmResp(sequence, status));
      this.#checkIdle();
    };
    Promise.resolve().then(() => onDeliver(pdu)).then(
      () => answer(0),
      (error) => {
        this.#log("warn", "deliver_sm not stored: answered ESME_RX_T_APPN", {
          error: String(error),
        });
        answer(commandStatus.temporaryAppError);
      },
    );
  }

  /** Writes queued submits while the window, the pacer and the link allow. */
  #pump() {
    if (this.#state !== "bound" || this.#pumpTimer) return;
    while (this.#queue.length > 0 && this.#inFlight < this.window && this.#writable()) {
      const wait = this.#pacer.take();
      if (wait > 0) {
        this.#pumpTimer = setTimeout(() => {
          this.#pumpTimer = null;
          this.#pump();
        }, wait);
        return;
      }
      const q = this.#queue.shift()!;
      const sequence = this.#nextSequence();
      const frame = encodeSubmitSm({ ...q.request, sequence });
      this.#pending.set(sequence, {
        kind: "submit",
        deadline: this.#now() + this.#responseTimeoutMs,
        queued: q,
      });
      this.#inFlight++;
      q.tries++;
      this.counters.submitted++;
      this.#write(frame);
    }
  }

  /** Response timeouts, idle enquire_link, submits queued too long. */
  #housekeeping() {
    const now = this.#now();
    let probe = false;
    for (const [sequence, p] of this.#pending) {
      if (p.deadline > now) break;
      this.#pending.delete(sequence);
      switch (p.kind) {
        case "submit":
          this.#inFlight--;
          this.counters.timeouts++;
          p.queued.resolve({ kind: "timeout" });
          probe = true;
          break;
        case "enquire":
          this.#enquiring = null;
          this.#drop("timeout", "enquire_link unanswered: the link is dead");
          return;
        case "bind":
          this.#drop("timeout", "bind unanswered");
          return;
        case "unbind":
          this.#socket?.destroy();
          return;
      }
    }
    if (probe) this.#checkIdle();
    if (this.#state === "bound") {
      // A submit unanswered may be a dead link: ask at once rather than at the next idle period.
      if (this.#enquiring === null && (probe || now - this.#lastTraffic >= this.#enquireLinkMs)) {
        const sequence = this.#nextSequence();
        this.#enquiring = sequence;
        this.#pending.set(sequence, { kind: "enquire", deadline: now + this.#responseTimeoutMs });
        this.#write(encodeEnquireLink(sequence));
      }
      this.#pump();
    }
    for (let q = this.#queue.peek(); q; q = this.#queue.peek()) {
      if (now - q.enqueuedAt < this.#queueTimeoutMs) break;
      this.#queue.shift();
      this.counters.dropped++;
      q.resolve({ kind: "dropped", written: false });
    }
  }
}
