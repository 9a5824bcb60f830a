import { Buffer } from "node:buffer";
import { randomInt } from "node:crypto";
import type { Socket } from "node:net";
import { setImmediate } from "node:timers";
import { createServer, PDU, type Session } from "smpp";
import type { SimulatorContext } from "../context.ts";
import type { RunningServer } from "../control.ts";
import type { LedgerEntry } from "../ledger.ts";
import { activeFault } from "../clock.ts";
import { smsMagicOutcome } from "../magic.ts";
import { type SmsOutcome, smsOutcomes } from "../outcomes.ts";
import { between } from "../random.ts";
import { type CallbackBody, postCallback } from "./callback.ts";
import {
  commandId,
  decodeSubmitSm,
  decodeText,
  type DeliverSmReceipt,
  encodeDeliverSm,
  encodeSubmitSmResp,
  formatReceipt,
  messageState,
  type PartInfo,
  partInfo,
  type ReceiptStat,
  type SubmitSm,
  udhLength,
} from "@sendgate/channels";

/**
 * The SMSC: an SMPP 3.4 server on the smpp package's listener and sessions. The package's PDU
 * reader is replaced by our own framing, because it stops reading for good after one malformed
 * PDU and emits an error that crashes an unguarded process; submit_sm, submit_sm_resp and
 * deliver_sm go through a direct codec (codec.ts), every other PDU through the package's.
 *
 * Every submit_sm gets one ledger entry (one per message for long messages), decided by
 * `ctx.decide` from the destination number; receipts follow as deliver_sm on a receiving bind
 * of the same system_id, or as signed HTTP callbacks (callback.ts).
 */

export type RunningSmsc = RunningServer & {
  port: number;
  /** PDUs answered with generic_nack or an error for their form (length, command id, bind state). */
  readonly protocolErrors: number;
  /** Successful binds since start. */
  readonly binds: number;
  /** Binds refused (unknown system_id, wrong password, refuse fault). */
  readonly bindsRefused: number;
  /** Sessions bound right now. */
  readonly activeBinds: number;
};

const status = {
  ok: 0x00,
  invalidCommandLength: 0x02,
  invalidCommandId: 0x03,
  invalidBindStatus: 0x04,
  alreadyBound: 0x05,
  systemError: 0x08,
  invalidDestination: 0x0b,
  bindFailed: 0x0d,
  invalidPassword: 0x0e,
  invalidSystemId: 0x0f,
  queueFull: 0x14,
  submitFailed: 0x45,
  throttled: 0x58,
} as const;

/** submit_sm_resp command_status of each outcome answered with an error. */
const submitError: Partial<Record<SmsOutcome, number>> = {
  invalidDestination: status.invalidDestination,
  throttled: status.throttled,
  queueFull: status.queueFull,
  systemError: status.systemError,
  submitFailed: status.submitFailed,
};

/** The final receipt of each outcome that has one. */
const finalReceipt: Partial<Record<SmsOutcome, { stat: ReceiptStat; err: string }>> = {
  delivered: { stat: "DELIVRD", err: "000" },
  enrouteDelivered: { stat: "DELIVRD", err: "000" },
  unknownSubscriber: { stat: "UNDELIV", err: "001" },
  absentSubscriber: { stat: "UNDELIV", err: "027" },
  expired: { stat: "EXPIRED", err: "000" },
  rejected: { stat: "REJECTD", err: "000" },
  deleted: { stat: "DELETED", err: "000" },
  unknown: { stat: "UNKNOWN", err: "000" },
};

/** Simulated back-off between HTTP callback attempts (four attempts in all). */
const callbackBackoffMs = [1_000, 5_000, 30_000];
/** Receipts waiting for a receiving bind, per system_id, before the oldest are given up. */
const maxQueuedReceipts = 100_000;
/** Long messages being reassembled before the oldest incomplete one is forgotten. */
const maxAssembling = 10_000;
/** Corked writes let out together: enough for one writev to pay, few enough to keep the ESME busy. */
const flushEvery = 32;
/** deliver_sm attempts before a receipt the ESME keeps refusing is given up. */
const maxDeliverAttempts = 3;

type BindMode = "transceiver" | "transmitter" | "receiver";

interface Bind {
  session: Session;
  socket: Socket;
  mode: BindMode | null;
  systemId: string | null;
  rest: Buffer;
  closed: boolean;
  /** Writes are corked until the loop's check phase, so a burst (a batch of submit_sm_resp, the
   * receipts of every timer due) goes out in one writev instead of one syscall each. */
  corked: boolean;
  /** Writes held since the last flush. */
  held: number;
  /** Token bucket for throughputPerBind. */
  tokens: number;
  refilledAt: number;
  seq: number;
  /** deliver_sm sent, by sequence number, until their deliver_sm_resp. */
  awaiting: Map<number, ReceiptJob>;
}

interface Address {
  addr: string;
  ton: number;
  npi: number;
}

/** One SMS: one submit_sm, or every part of a long message. */
interface Message {
  entry: LedgerEntry;
  outcome: SmsOutcome;
  draw: (...salt: (string | number)[]) => number;
  systemId: string;
  origin: Bind;
  source: Address;
  destination: Address;
  receivedAt: Date;
  registeredDelivery: number;
  /**
   * The id its receipts name: the part that asked for one (gateways ask on one part of a long
   * message, usually the last), else the first part's.
   */
  receiptId?: string;
  reference?: number;
  /** Part texts by segment number (a single message has one). */
  texts: string[];
}

interface ReceiptJob {
  message: Message;
  stat: ReceiptStat;
  err: string;
  final: boolean;
  doneDate: Date;
  attempts: number;
  /** Set when receipts go by HTTP callback. */
  callback?: { url: string; secret: string };
}

function receiptJob(
  message: Message,
  stat: ReceiptStat,
  err: string,
  final: boolean,
  after: number,
  callback: ReceiptJob["callback"],
): ReceiptJob {
  const job: ReceiptJob = {
    message,
    stat,
    err,
    final,
    doneDate: new Date(message.receivedAt.getTime() + after),
    attempts: 0,
  };
  if (callback) job.callback = callback;
  return job;
}

interface Assembly {
  message: Message;
  part: PartInfo;
  partIds: (string | null)[];
  received: number;
}

const fieldString = (v: unknown) => (typeof v === "string" ? v : "");
const fieldNumber = (v: unknown) => (typeof v === "number" ? v : 0);
const uncork = (bind: Bind) => {
  bind.corked = false;
  bind.socket.uncork();
};
const canReceive = (bind: Bind) =>
  !bind.closed && (bind.mode === "transceiver" || bind.mode === "receiver");

/**
 * The destination as +E.164: `+` kept, `00` international prefix replaced, digits of any TON
 * taken as international (gateways send country-code numbers with TON 0 or 1). Empty when the
 * address is not a phone number (alphanumeric, letters, too long): the SMSC refuses it.
 */
export function toE164(addr: string, ton: number): string {
  if (ton === 5) return "";
  let digits = addr.trim().replace(/[\s\-().]/gu, "");
  if (digits.startsWith("+")) digits = digits.slice(1);
  else if (digits.startsWith("00")) digits = digits.slice(2);
  return /^[1-9]\d{3,14}$/u.test(digits) ? `+${digits}` : "";
}

/** Whether registered_delivery asks for this final receipt (SMPP 3.4 §5.2.17, 5.0 for 3). */
function wantsFinal(registeredDelivery: number, stat: ReceiptStat): boolean {
  switch (registeredDelivery & 0x03) {
    case 1:
      return true;
    case 2:
      return stat !== "DELIVRD";
    case 3:
      return stat === "DELIVRD";
    default:
      return false;
  }
}

export async function startSmsc(
  ctx: SimulatorContext,
  options: { host?: string; port?: number } = {},
): Promise<RunningSmsc> {
  const host = options.host ?? "127.0.0.1";
  const binds = new Set<Bind>();
  const receivers = new Map<string, Bind[]>();
  const queued = new Map<string, ReceiptJob[]>();
  const assembling = new Map<string, Assembly>();
  const buckets = new Map<number, ReceiptJob[]>();
  const latencyTimers = new Set<ReturnType<typeof setTimeout>>();
  const closing = new AbortController();
  const counters = { protocolErrors: 0, binds: 0, bindsRefused: 0 };
  const idBase = randomInt(0x10000000, 0x70000000);
  let idCounter = 0;
  let closed = false;
  let down = false;
  let upAt = 0;
  let reopening = false;
  let port = 0;

  const nextId = () => {
    const n = idBase + ++idCounter;
    return ctx.scenario.sms.idFormat === "hex" ? n.toString(16) : String(n);
  };
  /**
   * The id as receipts name it: as the submit_sm_resp gave it, or in the other base (SMSCs that
   * answer hex and report decimal, Kannel's msg-id-type), with leading zeros when asked.
   */
  const receiptId = (id: string) => {
    const format = ctx.scenario.sms.receiptIdFormat;
    if (format === "same") return id;
    const n = ctx.scenario.sms.idFormat === "hex" ? BigInt(`0x${id}`) : BigInt(id);
    return format === "decimal" ? `00${n.toString(10)}` : `00${n.toString(16).toUpperCase()}`;
  };
  const fault = () => activeFault(ctx.scenario.sms.faults, ctx.scheduler.elapsed());

  const server = createServer({}, (session) => onSession(session));
  server.on("error", (error: Error) => console.error("smsc: listener error", error));

  function onSession(session: Session) {
    const socket = session.socket;
    // The package's Session reads PDUs itself; we take the socket over (see the module comment).
    socket.removeAllListeners("readable");
    session.on("error", () => {});
    if (closed || down || fault()?.kind === "drop") {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const bind: Bind = {
      session,
      socket,
      mode: null,
      systemId: null,
      rest: Buffer.alloc(0),
      closed: false,
      corked: false,
      held: 0,
      tokens: Number.POSITIVE_INFINITY,
      refilledAt: performance.now(),
      seq: 0,
      awaiting: new Map(),
    };
    binds.add(bind);
    socket.on("readable", () => pump(bind));
    socket.on("close", () => onClose(bind));
  }

  function leaveReceivers(bind: Bind) {
    if (!bind.systemId) return;
    const list = receivers.get(bind.systemId)?.filter((b) => b !== bind) ?? [];
    if (list.length) receivers.set(bind.systemId, list);
    else receivers.delete(bind.systemId);
  }

  function onClose(bind: Bind) {
    bind.closed = true;
    binds.delete(bind);
    leaveReceivers(bind);
    // Receipts the ESME never acknowledged go out again on its next bind, as an SMSC retries them.
    for (const job of bind.awaiting.values()) enqueue(job);
    bind.awaiting.clear();
  }

  function write(bind: Bind, data: PDU | Buffer) {
    if (bind.closed || !bind.socket.writable) return;
    if (!bind.corked) {
      bind.corked = true;
      bind.held = 0;
      bind.socket.cork();
      setImmediate(uncork, bind);
    } else if (++bind.held >= flushEvery) {
      // Let a long burst out in slices, so the ESME starts on the first answers while we work.
      bind.held = 0;
      bind.socket.uncork();
      bind.socket.cork();
    }
    bind.socket.write(data instanceof PDU ? data.toBuffer() : data);
  }

  /** A bare generic_nack (the sequence number is the offending PDU's, 0 when unknown). */
  function nack(bind: Bind, commandStatus: number, sequence: number) {
    write(
      bind,
      new PDU("generic_nack", { command_status: commandStatus, sequence_number: sequence }),
    );
  }

  function pump(bind: Bind) {
    const chunks: Buffer[] = bind.rest.length ? [bind.rest] : [];
    for (let chunk = bind.socket.read(); chunk !== null; chunk = bind.socket.read()) {
      chunks.push(chunk);
    }
    const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let offset = 0;
    try {
      while (!bind.closed && buffer.length - offset >= 4) {
        const length = buffer.readUInt32BE(offset);
        if (length < 16 || length > PDU.maxLength) {
          // The framing is lost: nothing after this can be trusted. Say so and hang up.
          counters.protocolErrors++;
          const sequence = buffer.length - offset >= 16 ? buffer.readUInt32BE(offset + 12) : 0;
          nack(bind, status.invalidCommandLength, sequence);
          bind.closed = true;
          bind.socket.end();
          setTimeout(() => bind.socket.destroy(), 1_000).unref();
          offset = buffer.length;
          break;
        }
        if (buffer.length - offset < length) break;
        const frame = buffer.subarray(offset, offset + length);
        offset += length;
        try {
          handleFrame(bind, frame);
        } catch (error) {
          // A bug of ours must cost one answer, not the process.
          console.error("smsc: failed to handle a PDU", error);
          counters.protocolErrors++;
          nack(bind, status.systemError, frame.readUInt32BE(12));
        }
      }
    } finally {
      bind.rest = offset >= buffer.length ? Buffer.alloc(0) : buffer.subarray(offset);
    }
  }

  function handleFrame(bind: Bind, frame: Buffer) {
    const current = fault();
    if (frame.readUInt32BE(4) === commandId.submitSm) {
      onSubmitFrame(bind, frame, current?.kind);
      return;
    }
    let pdu: PDU;
    try {
      pdu = new PDU(frame);
    } catch {
      // A body the codec cannot read (a field running past command_length, a bad time string).
      counters.protocolErrors++;
      nack(bind, status.invalidCommandLength, frame.readUInt32BE(12));
      return;
    }
    if (pdu.command === "unknown") {
      counters.protocolErrors++;
      nack(bind, status.invalidCommandId, pdu.sequence_number);
      return;
    }
    if (pdu.isResponse()) {
      onResponse(bind, pdu);
      return;
    }
    if (current?.kind === "drop") {
      bind.socket.destroy();
      return;
    }
    if (current?.kind === "stall") return;
    dispatch(bind, pdu);
  }

  function onSubmitFrame(bind: Bind, frame: Buffer, faultKind: string | undefined) {
    const sequence = frame.readUInt32BE(12);
    let sm: SubmitSm;
    try {
      sm = decodeSubmitSm(frame);
    } catch {
      // MalformedPdu: a field running past command_length.
      counters.protocolErrors++;
      if (faultKind === "drop") bind.socket.destroy();
      else if (faultKind !== "stall") nack(bind, status.invalidCommandLength, sequence);
      return;
    }
    const bound = bind.mode === "transceiver" || bind.mode === "transmitter";
    if (faultKind === "drop" || faultKind === "stall") {
      // The PDU arrived and will never be answered: a gateway sees a timeout, the ledger says why.
      if (bound) {
        recordProtocol(bind, sm, "noResponse", {
          none: faultKind === "drop" ? "link dropped" : "stall",
        });
      }
      if (faultKind === "drop") bind.socket.destroy();
      return;
    }
    if (!bound) {
      counters.protocolErrors++;
      write(bind, encodeSubmitSmResp(sequence, status.invalidBindStatus));
      return;
    }
    onSubmit(bind, sm);
  }

  function dispatch(bind: Bind, pdu: PDU) {
    switch (pdu.command) {
      case "bind_transceiver":
      case "bind_transmitter":
      case "bind_receiver":
        onBind(bind, pdu, pdu.command.slice(5) as BindMode);
        return;
      case "enquire_link":
        write(bind, pdu.response());
        return;
      case "unbind":
        write(bind, pdu.response());
        leaveReceivers(bind);
        bind.mode = null;
        bind.socket.end();
        return;
      default:
        // query_sm, cancel_sm, replace_sm, data_sm, submit_multi …: known, not offered here.
        counters.protocolErrors++;
        write(
          bind,
          pdu.response({
            command_status: bind.mode ? status.invalidCommandId : status.invalidBindStatus,
          }),
        );
    }
  }

  function onBind(bind: Bind, pdu: PDU, mode: BindMode) {
    if (bind.mode) {
      counters.protocolErrors++;
      write(bind, pdu.response({ command_status: status.alreadyBound }));
      return;
    }
    const systemId = fieldString(pdu.system_id);
    const account = ctx.scenario.sms.accounts.find((a) => a.systemId === systemId);
    const refused = fault()?.kind === "refuse"
      ? status.bindFailed
      : !account
      ? status.invalidSystemId
      : account.password !== fieldString(pdu.password)
      ? status.invalidPassword
      : 0;
    if (refused) {
      counters.bindsRefused++;
      write(bind, pdu.response({ command_status: refused }));
      return;
    }
    bind.mode = mode;
    bind.systemId = systemId;
    counters.binds++;
    const response: Record<string, unknown> = { system_id: "sendgate-sim" };
    if (fieldNumber(pdu.interface_version) >= 0x34) response.sc_interface_version = 0x34;
    write(bind, pdu.response(response));
    if (mode !== "transmitter") {
      receivers.set(systemId, [...(receivers.get(systemId) ?? []), bind]);
      flushQueued(systemId);
    }
  }

  function onResponse(bind: Bind, pdu: PDU) {
    const job = bind.awaiting.get(pdu.sequence_number);
    if (!job) return;
    bind.awaiting.delete(pdu.sequence_number);
    if (pdu.command_status === 0) return;
    // The ESME refused the receipt (deliver_sm_resp error or generic_nack): try again later.
    const detail = job.message.entry.async?.detail;
    if (detail) detail.deliverSmRespStatus = pdu.command_status;
    if (job.attempts < maxDeliverAttempts) ctx.scheduler.after(1_000, () => deliverSmpp(job));
    else if (detail) detail.givenUp = `deliver_sm refused ${job.attempts} times`;
  }

  /** Takes one submit from the bind's token bucket; false when over throughputPerBind. */
  function takeToken(bind: Bind): boolean {
    const rate = ctx.scenario.sms.throughputPerBind;
    if (!rate) return true;
    const now = performance.now();
    bind.tokens = Math.min(
      Math.max(1, rate),
      bind.tokens + ((now - bind.refilledAt) * rate) / 1000,
    );
    bind.refilledAt = now;
    if (bind.tokens < 1) return false;
    bind.tokens -= 1;
    return true;
  }

  function baseExtra(bind: Bind, sm: SubmitSm): Record<string, unknown> {
    const extra: Record<string, unknown> = {
      systemId: bind.systemId,
      sourceAddr: sm.source,
      destinationAddr: sm.destination,
      registeredDelivery: sm.registeredDelivery,
      sequenceNumber: sm.sequence,
    };
    if (sm.userMessageReference !== undefined) extra.reference = sm.userMessageReference;
    const part = partInfo(sm);
    if (part) extra.part = part;
    return extra;
  }

  /** A submit the SMSC decided by itself (throttle, stall, bad address): its own ledger entry. */
  function recordProtocol(
    bind: Bind,
    sm: SubmitSm,
    outcome: SmsOutcome,
    sync: LedgerEntry["sync"],
  ) {
    const recipient = toE164(sm.destination, sm.destTon) || sm.destination;
    ctx.ledger.add({
      id: nextId(),
      channel: "sms",
      recipient,
      occurrence: ctx.ledger.occurrence("sms", recipient),
      outcome,
      decidedBy: "protocol",
      receivedAt: new Date().toISOString(),
      sync,
      expected: smsOutcomes[outcome].expected,
      extra: baseExtra(bind, sm),
    });
  }

  function onSubmit(bind: Bind, sm: SubmitSm) {
    const sms = ctx.scenario.sms;
    const recipient = toE164(sm.destination, sm.destTon);
    if (!recipient) {
      recordProtocol(bind, sm, "invalidDestination", { commandStatus: status.invalidDestination });
      write(bind, encodeSubmitSmResp(sm.sequence, status.invalidDestination));
      return;
    }
    if (!takeToken(bind)) {
      recordProtocol(bind, sm, "throttled", { commandStatus: status.throttled });
      write(bind, encodeSubmitSmResp(sm.sequence, status.throttled));
      return;
    }
    const id = nextId();
    const text = decodeText(sm.message.subarray(udhLength(sm)), sm.dataCoding);
    const part = partInfo(sm);
    const source: Address = { addr: sm.source, ton: sm.sourceTon, npi: sm.sourceNpi };
    const destination: Address = { addr: sm.destination, ton: sm.destTon, npi: sm.destNpi };

    let message: Message;
    let assembly: Assembly | undefined;
    let key = "";
    if (part) {
      key =
        `${bind.systemId}\u0000${source.addr}\u0000${recipient}\u0000${part.how}:${part.ref}:${part.total}`;
      assembly = assembling.get(key);
      // The same segment again on a message that got an error or no answer: the gateway starts
      // over, so this is a new message. On an accepted one it is a retransmission of the part.
      const outcome = assembly?.message.outcome;
      if (
        assembly && assembly.partIds[part.seq - 1] &&
        (submitError[outcome!] !== undefined || outcome === "noResponse")
      ) {
        assembling.delete(key);
        assembly = undefined;
      }
    }
    if (assembly) {
      message = assembly.message;
    } else {
      const decision = ctx.decide(
        "sms",
        recipient,
        sms.mix,
        smsMagicOutcome(recipient),
        "delivered",
      );
      const receivedAt = new Date();
      const commandStatus = submitError[decision.outcome] ?? status.ok;
      const extra = baseExtra(bind, sm);
      const entry = ctx.ledger.add({
        id,
        channel: "sms",
        recipient,
        occurrence: decision.occurrence,
        outcome: decision.outcome,
        decidedBy: decision.decidedBy,
        receivedAt: receivedAt.toISOString(),
        sync: decision.outcome === "noResponse" ? { none: "no submit_sm_resp" } : { commandStatus },
        expected: smsOutcomes[decision.outcome].expected,
        extra,
      });
      message = {
        entry,
        outcome: decision.outcome,
        draw: decision.draw,
        systemId: bind.systemId!,
        origin: bind,
        source,
        destination,
        receivedAt,
        registeredDelivery: sm.registeredDelivery,
        texts: [],
      };
      if (sm.userMessageReference !== undefined) message.reference = sm.userMessageReference;
      if (part) {
        delete extra.part;
        assembly = {
          message,
          part,
          partIds: Array.from({ length: part.total }, () => null),
          received: 0,
        };
        Object.assign(extra, {
          parts: part.total,
          partsReceived: 0,
          partIds: assembly.partIds,
          concat: part.how,
        });
        assembling.set(key, assembly);
        if (assembling.size > maxAssembling) assembling.delete(assembling.keys().next().value!);
      }
    }

    answer(bind, sm.sequence, message, id, part?.seq ?? 1);
    if (sm.registeredDelivery & 0x03 && message.receiptId === undefined) {
      message.receiptId = id;
      message.registeredDelivery = sm.registeredDelivery;
    }
    if (part && assembly) {
      if (!assembly.partIds[part.seq - 1]) assembly.received++;
      assembly.partIds[part.seq - 1] = id;
      message.texts[part.seq - 1] = text;
      message.entry.extra!.partsReceived = assembly.received;
      if (assembly.received < part.total) return;
      assembling.delete(key);
    } else {
      message.texts[0] = text;
    }
    message.entry.extra!.text = message.texts.join("");
    scheduleReceipts(message);
  }

  function answer(bind: Bind, sequence: number, message: Message, id: string, seq: number) {
    if (message.outcome === "noResponse") return;
    const response = encodeSubmitSmResp(sequence, submitError[message.outcome] ?? status.ok, id);
    const latency = between(ctx.scenario.sms.latency, message.draw("latency", seq));
    if (latency <= 0) {
      write(bind, response);
      return;
    }
    const timer = setTimeout(() => {
      latencyTimers.delete(timer);
      write(bind, response);
    }, latency);
    latencyTimers.add(timer);
  }

  function scheduleReceipts(message: Message) {
    const plan = finalReceipt[message.outcome];
    if (!plan) return;
    const sms = ctx.scenario.sms;
    const delay = between(sms.asyncDelay, message.draw("receipt"));
    const detail: Record<string, unknown> = {
      stat: plan.stat,
      err: plan.err,
      via: sms.receipts.mode,
    };
    message.entry.async = {
      kind: "receipt",
      dueAt: ctx.scheduler.dueAt(delay).toISOString(),
      detail,
    };
    const rd = message.registeredDelivery;
    if (!wantsFinal(rd, plan.stat)) {
      detail.skipped = `registered_delivery 0x${
        rd.toString(16).padStart(2, "0")
      } did not ask for it`;
      return;
    }
    // The receipt channel is the one in force when the message was accepted.
    const receipts = sms.receipts;
    const callback = receipts.mode === "http"
      ? { url: receipts.url, secret: receipts.secret }
      : undefined;
    if (message.outcome === "enrouteDelivered" && ((rd & 0x10) !== 0 || (rd & 0x03) === 1)) {
      const early = Math.round(delay * (0.2 + 0.5 * message.draw("enroute")));
      detail.intermediate = "ENROUTE";
      atSimulated(early, receiptJob(message, "ENROUTE", "000", false, early, callback));
    }
    atSimulated(delay, receiptJob(message, plan.stat, plan.err, true, delay, callback));
  }

  /**
   * Runs receipts `simulatedMs` from now, in buckets of one real millisecond: one scheduler timer
   * per bucket rather than per receipt, which at 20,000 receipts a second is most of their cost.
   * Within a bucket, receipts go in the order they were scheduled (ENROUTE before its final).
   */
  function atSimulated(simulatedMs: number, job: ReceiptJob) {
    const scale = ctx.scenario.timeScale;
    const now = Date.now();
    const due = Math.ceil(now + simulatedMs / scale);
    const bucket = buckets.get(due);
    if (bucket) {
      bucket.push(job);
      return;
    }
    const jobs = [job];
    buckets.set(due, jobs);
    ctx.scheduler.after((due - now) * scale, () => {
      buckets.delete(due);
      for (const j of jobs) sendReceipt(j);
    });
  }

  function sendReceipt(job: ReceiptJob) {
    if (job.callback) return deliverHttp(job, job.callback.url, job.callback.secret);
    deliverSmpp(job);
  }

  function receiptText(job: ReceiptJob): string {
    return formatReceipt({
      id: receiptId(job.message.receiptId ?? job.message.entry.id),
      sub: 1,
      dlvrd: job.stat === "DELIVRD" ? 1 : 0,
      submitDate: job.message.receivedAt,
      doneDate: job.doneDate,
      stat: job.stat,
      err: job.err,
      text: job.message.texts.join(""),
    });
  }

  /** A receiving bind of the system_id: the submitting one if it can receive, else round robin. */
  function receiverFor(message: Message): Bind | null {
    if (canReceive(message.origin)) return message.origin;
    const list = receivers.get(message.systemId);
    if (!list?.length) return null;
    const bind = list.shift()!;
    list.push(bind);
    return canReceive(bind) ? bind : null;
  }

  function enqueue(job: ReceiptJob) {
    const list = queued.get(job.message.systemId) ?? [];
    list.push(job);
    if (list.length > maxQueuedReceipts) {
      const lost = list.shift()!;
      if (lost.message.entry.async) {
        lost.message.entry.async.detail.givenUp = "no receiving bind, queue full";
      }
    }
    queued.set(job.message.systemId, list);
  }

  function flushQueued(systemId: string) {
    const list = queued.get(systemId);
    if (!list) return;
    queued.delete(systemId);
    for (const job of list) deliverSmpp(job);
  }

  function deliverSmpp(job: ReceiptJob) {
    if (closed) return;
    const bind = receiverFor(job.message);
    if (!bind) {
      enqueue(job);
      return;
    }
    const m = job.message;
    bind.seq = (bind.seq % 0x7fffffff) + 1;
    const receipt: DeliverSmReceipt = {
      sequence: bind.seq,
      // From the handset to the ESME: the submit's addresses swapped.
      sourceTon: m.destination.ton,
      sourceNpi: m.destination.npi,
      source: m.destination.addr,
      destTon: m.source.ton,
      destNpi: m.source.npi,
      destination: m.source.addr,
      // 0x04 SMSC delivery receipt; 0x20 intermediate delivery notification (SMPP 3.4 §5.2.12).
      esmClass: job.final ? 0x04 : 0x20,
      text: receiptText(job),
      receiptedMessageId: receiptId(m.receiptId ?? m.entry.id),
      messageState: messageState[job.stat],
    };
    // network_error_code: GSM (3) and the error, for undeliverable messages.
    if (job.stat === "UNDELIV") receipt.networkError = [3, Number(job.err)];
    job.attempts++;
    bind.awaiting.set(bind.seq, job);
    write(bind, encodeDeliverSm(receipt));
    const detail = m.entry.async!.detail;
    if (job.final) {
      ctx.ledger.markAsyncSent(m.entry, new Date(), { deliverSmAttempts: job.attempts });
    } else detail.intermediateSentAt = new Date().toISOString();
  }

  async function deliverHttp(job: ReceiptJob, url: string, secret: string) {
    if (closed) return;
    const m = job.message;
    const body: CallbackBody = {
      messageId: receiptId(m.receiptId ?? m.entry.id),
      stat: job.stat,
      err: job.err,
      doneDate: job.doneDate.toISOString(),
      submitDate: m.receivedAt.toISOString(),
    };
    const text = m.texts.join("").slice(0, 20);
    if (text) body.text = text;
    if (m.reference !== undefined) body.reference = m.reference;
    job.attempts++;
    const result = await postCallback(url, secret, body, { signal: closing.signal });
    if (closed) return;
    const detail = m.entry.async!.detail;
    const log = (detail.callbacks ??= []) as Record<string, unknown>[];
    log.push({
      stat: job.stat,
      attempt: job.attempts,
      ...(result.ok ? { status: result.status } : result),
    });
    if (result.ok) {
      if (job.final) ctx.ledger.markAsyncSent(m.entry, new Date());
      else detail.intermediateSentAt = new Date().toISOString();
      return;
    }
    const backoff = callbackBackoffMs[job.attempts - 1];
    if (backoff === undefined) {
      detail.givenUp = `callback failed ${job.attempts} times`;
      return;
    }
    ctx.scheduler.after(backoff, () => deliverHttp(job, url, secret));
  }

  // Faults: stall and refuse are looked up as each PDU arrives; drop and restart are events,
  // applied by this poll when their start passes (even a window shorter than the poll period).
  const applied = new Set<string>();
  const poll = setInterval(() => {
    const elapsed = ctx.scheduler.elapsed();
    for (const f of ctx.scenario.sms.faults) {
      const key = `${f.kind}@${f.atMs}+${f.durationMs}`;
      if (elapsed < f.atMs || applied.has(key)) continue;
      applied.add(key);
      if (f.kind === "drop") { for (const b of binds) b.socket.destroy(); }
      if (f.kind === "restart") {
        down = true;
        upAt = Math.max(upAt, f.atMs + f.durationMs);
        server.close();
        for (const b of binds) b.socket.destroy();
      }
    }
    if (down && !reopening && elapsed >= upAt) {
      reopening = true;
      const failed = () => (reopening = false);
      server.once("error", failed);
      server.listen(port, host, () => {
        server.off("error", failed);
        down = false;
        reopening = false;
        if (closed) server.close();
      });
    }
  }, 10);
  poll.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    urls: [`smpp://${urlHost}:${port}`],
    port,
    get protocolErrors() {
      return counters.protocolErrors;
    },
    get binds() {
      return counters.binds;
    },
    get bindsRefused() {
      return counters.bindsRefused;
    },
    get activeBinds() {
      let n = 0;
      for (const b of binds) if (b.mode) n++;
      return n;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      closing.abort();
      for (const timer of latencyTimers) clearTimeout(timer);
      latencyTimers.clear();
      for (const b of binds) b.socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
