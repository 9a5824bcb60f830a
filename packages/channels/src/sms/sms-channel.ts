import { type CompiledTemplate, compileTemplate, type QualificationInput } from "@sendgate/core";
import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "../channel.ts";
import { commandStatus, type DeliverSm } from "./codec.ts";
import { isReceiptEsmClass, type ParsedReceipt, parseReceipt } from "./receipt.ts";
import { type LongMessageMode, segmentText, type SubmitPart } from "./segments.ts";
import { type BindLog, SmppBind, type SubmitResult } from "./smpp-client.ts";
import { decodeText } from "./text.ts";

/**
 * The SMS channel: every configured provider's binds, routing by number prefix with failover,
 * text encoding and long-message parts, and the receipts and mobile-originated messages that
 * come back on the binds (handed to `onDeliver`, which stores them; the bind acknowledges only
 * then). Outcomes are values (`SendOutcome`): the core qualifies a submit's command_status, a
 * timeout or a dropped link (DOMAIN §10: no response → ignored 3).
 */
export interface SmsProviderConfig {
  id: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  addressRange?: string;
  /** Binds to open (until `setBinds` says how many this process holds); 1. */
  binds?: number;
  /**
   * `transceiver` (default): each bind sends and receives. `pair`: each bind is a transmitter
   * and a receiver (two sessions, as providers that count them apart want); `binds` counts pairs.
   */
  bindMode?: "transceiver" | "pair";
  window?: number;
  responseTimeoutMs?: number;
  /** submit_sm per second per bind. */
  throughput?: number;
  enquireLinkMs?: number;
  longMessages?: LongMessageMode;
  /** E.164 prefixes served (digits, no `+`); empty: every number. */
  prefixes?: readonly string[];
  /** Lower goes first among equally good prefixes; 100. */
  priority?: number;
  /** The sender when a delivery gives none. */
  source?: { address: string };
}

export interface SmsDeliverEvent {
  provider: string;
  /** A delivery receipt (its id, stat and err from the TLVs first, then the text). */
  receipt: ParsedReceipt | null;
  /** A mobile-originated message. */
  mo: { from: string; to: string; text: string } | null;
}

export interface SmsChannelConfig {
  providers: readonly SmsProviderConfig[];
  /** Stores a deliver_sm; the bind answers deliver_sm_resp only once it resolved. */
  onDeliver: (event: SmsDeliverEvent) => Promise<void>;
  /** A provider with no bind up for this long is down: its numbers go to the next one; 30 s. */
  downAfterMs?: number;
  log?: BindLog;
  now?: () => number;
  /**
   * Binds are leased cluster-wide: open none until `setBinds` says how many this process holds
   * (otherwise each provider's `binds` at once).
   */
  leased?: boolean;
  /** Reconnect back-off of the binds (tests shorten it). */
  reconnect?: { initialMs?: number; maxMs?: number };
}

export interface SmsProviderStatus {
  id: string;
  /** Binds that send (transceivers or transmitters) bound now, and opened. */
  bound: number;
  binds: number;
  /** In `pair` mode, the receivers bound (null in transceiver mode). */
  receiversBound: number | null;
  /** submit_sm awaiting their response, over the provider's binds. */
  inFlight: number;
  /** The window of one bind. */
  window: number;
  /** Since when no bind is up (null while one is). */
  downSince: number | null;
  lastError: string | null;
}

export interface SmsChannel extends ChannelAdapter {
  readonly channel: "sms";
  /** How many binds this process may open to a provider (the cluster's lease of its slots). */
  setBinds(provider: string, binds: number): void;
  status(): SmsProviderStatus[];
}

/** command_status that speak of the provider, not the message: the next provider may take it. */
const PROVIDER_SIDE = new Set<number>([
  commandStatus.systemError,
  commandStatus.throttled,
  commandStatus.queueFull,
  0x64, // ESME_RX_T_APPN
]);

class Provider {
  /** The binds that send: transceivers, or the transmitters of pairs. */
  readonly binds: SmppBind[] = [];
  /** The receivers of pairs (empty in transceiver mode). */
  readonly receivers: SmppBind[] = [];
  wanted: number;
  /** Since when no bind is up; null while one is. */
  downSince: number | null;
  /** A bind failed to connect or bind since the last time one was up. */
  failed = false;
  #next = 0;

  constructor(
    readonly config: SmsProviderConfig,
    private readonly channelConfig: SmsChannelConfig,
    private readonly now: () => number,
  ) {
    this.wanted = channelConfig.leased ? 0 : config.binds ?? 1;
    this.downSince = now();
    this.resize();
  }

  get bound() {
    return this.binds.filter((b) => b.state === "bound").length;
  }

  /** No bind up, and one failed or none came up for `downAfterMs` (or none may be opened). */
  isDown(downAfterMs: number) {
    if (this.bound > 0) return false;
    return this.binds.length === 0 || this.failed ||
      this.now() - (this.downSince ?? this.now()) >= downAfterMs;
  }

  /** Opens or closes binds (pairs) until as many are open as this process may hold. */
  resize() {
    const pair = this.config.bindMode === "pair";
    while (this.binds.length < this.wanted) {
      this.binds.push(this.#open(pair ? "transmitter" : "transceiver"));
      if (pair) this.receivers.push(this.#open("receiver"));
    }
    while (this.binds.length > this.wanted) {
      void this.binds.pop()!.close();
      if (pair) void this.receivers.pop()?.close();
    }
  }

  #open(mode: "transceiver" | "transmitter" | "receiver"): SmppBind {
    const c = this.config;
    const sends = mode !== "receiver";
    const bind = new SmppBind({
      host: c.host,
      port: c.port,
      systemId: c.systemId,
      password: c.password,
      ...(c.systemType !== undefined ? { systemType: c.systemType } : {}),
      ...(c.addressRange !== undefined ? { addressRange: c.addressRange } : {}),
      ...(c.window !== undefined ? { window: c.window } : {}),
      ...(c.responseTimeoutMs !== undefined ? { responseTimeoutMs: c.responseTimeoutMs } : {}),
      ...(c.throughput !== undefined ? { throughput: c.throughput } : {}),
      ...(c.enquireLinkMs !== undefined ? { enquireLinkMs: c.enquireLinkMs } : {}),
      ...(this.channelConfig.reconnect ? { reconnect: this.channelConfig.reconnect } : {}),
      // A message waits at most this long for a window slot before another provider may take it.
      queueTimeoutMs: 30_000,
      ...(this.channelConfig.log ? { log: this.channelConfig.log } : {}),
      mode,
      onDeliver: (pdu) => this.channelConfig.onDeliver(deliverEvent(c.id, pdu)),
      onStateChange: (state) => {
        // A receiver does not make the provider up or down: messages go out on transmitters.
        if (!sends) return;
        if (state === "bound") {
          this.downSince = null;
          this.failed = false;
          return;
        }
        if (state === "backoff") this.failed = true;
        if (this.bound === 0 && this.downSince === null) this.downSince = this.now();
      },
    });
    bind.start();
    return bind;
  }

  /** The next bound bind (round robin), or any bind when none is bound yet. */
  pick(): SmppBind | null {
    const bound = this.binds.filter((b) => b.state === "bound");
    const from = bound.length ? bound : this.binds;
    if (from.length === 0) return null;
    return from[this.#next++ % from.length]!;
  }
}

function deliverEvent(provider: string, pdu: DeliverSm): SmsDeliverEvent {
  const text = decodeText(pdu.messagePayload ?? pdu.shortMessage, pdu.dataCoding);
  if (isReceiptEsmClass(pdu.esmClass) || pdu.receiptedMessageId !== undefined) {
    const receipt = parseReceipt(text, {
      ...(pdu.receiptedMessageId !== undefined
        ? { receipted_message_id: pdu.receiptedMessageId }
        : {}),
      ...(pdu.messageState !== undefined ? { message_state: pdu.messageState } : {}),
      ...(pdu.networkErrorCode !== undefined ? { network_error_code: pdu.networkErrorCode } : {}),
    });
    if (receipt) return { provider, receipt, mo: null };
  }
  return { provider, receipt: null, mo: { from: pdu.source, to: pdu.destination, text } };
}

/** Sender TON/NPI: alphanumeric (5/0), international number (1/1), else national (0/1). */
function sourceAddress(sender: string) {
  if (/^\+\d+$/u.test(sender)) return { source: sender.slice(1), sourceTon: 1, sourceNpi: 1 };
  if (/^\d+$/u.test(sender)) {
    // A long number is taken as international (E.164 without +), a short one as a short code.
    return sender.length > 8
      ? { source: sender, sourceTon: 1, sourceNpi: 1 }
      : { source: sender, sourceTon: 3, sourceNpi: 0 };
  }
  return { source: sender, sourceTon: 5, sourceNpi: 0 };
}

const network = (code: string, text: string): SendOutcome => ({
  kind: "transport",
  input: { channel: "sms", kind: "network", code, text } as QualificationInput,
});

export function createSmsChannel(config: SmsChannelConfig): SmsChannel {
  const now = config.now ?? Date.now;
  const downAfterMs = config.downAfterMs ?? 30_000;
  const providers = config.providers.map((p) => new Provider(p, config, now));
  const templates = new Map<string, CompiledTemplate>();
  let reference = Math.floor(Math.random() * 0xffff);
  let closed = false;

  const template = (source: string) => {
    let t = templates.get(source);
    if (!t) {
      if (templates.size > 1_000) templates.clear();
      t = compileTemplate(source);
      templates.set(source, t);
    }
    return t;
  };

  /** Providers for a number, best first: longest matching prefix, then priority. */
  const routes = (number: string): Provider[] => {
    const digits = number.replace(/^\+/u, "");
    return providers.map((p) => {
      const prefixes = p.config.prefixes ?? [];
      const best = prefixes.length === 0
        ? 0
        : Math.max(-1, ...prefixes.filter((x) => digits.startsWith(x)).map((x) => x.length));
      return { p, best };
    }).filter((x) => x.best >= 0).sort((a, b) =>
      b.best - a.best || (a.p.config.priority ?? 100) - (b.p.config.priority ?? 100)
    ).map((x) => x.p);
  };

  /** All parts through one bind; the message's id is its receipt part's. */
  const sendParts = async (
    bind: SmppBind,
    parts: readonly SubmitPart[],
    receiptPart: number,
    base: { destination: string; source: string; sourceTon: number; sourceNpi: number },
  ): Promise<SubmitResult> => {
    const results = await Promise.all(parts.map((part) =>
      bind.submit({
        ...base,
        destTon: 1,
        destNpi: 1,
        esmClass: part.esmClass,
        dataCoding: part.dataCoding,
        registeredDelivery: part.registeredDelivery,
        shortMessage: part.shortMessage,
        ...(part.messagePayload ? { messagePayload: part.messagePayload } : {}),
        ...(part.sar ? { sar: part.sar } : {}),
      })
    ));
    return results.find((r) => r.kind !== "ok") ?? results[receiptPart]!;
  };

  const sendOne = async (m: OutgoingMessage): Promise<SendOutcome> => {
    const content = m.content as { text?: string; sender?: string };
    const rendered = template(String(content.text ?? "")).render(m.fields, "text");
    if (!rendered.ok) {
      return {
        kind: "invalid",
        problem: "personalization",
        detail: `missing personalization fields: ${rendered.missing.join(", ")}`,
      };
    }
    const candidates = routes(m.address);
    if (candidates.length === 0) return network("ENOROUTE", "no SMS provider serves this number");
    const usable = candidates.filter((p) => !p.isDown(downAfterMs));
    const order = usable.length ? usable : candidates;
    let last: SendOutcome = network("ENOROUTE", "no SMS provider bound");
    for (const provider of order) {
      let segmentation;
      try {
        reference = (reference + 1) & 0xffff;
        segmentation = segmentText(rendered.value, {
          mode: provider.config.longMessages ?? "udh",
          reference,
        });
      } catch (error) {
        return { kind: "invalid", problem: "content", detail: (error as Error).message };
      }
      const bind = provider.pick();
      if (!bind) continue;
      const sender = content.sender ?? provider.config.source?.address ?? "Sendgate";
      const result = await sendParts(bind, segmentation.parts, segmentation.receiptPart, {
        destination: m.address.replace(/^\+/u, ""),
        ...sourceAddress(sender),
      });
      switch (result.kind) {
        case "ok":
          return { kind: "accepted", provider: provider.config.id, remoteId: result.messageId };
        case "error": {
          last = {
            kind: "refused",
            input: { channel: "sms", kind: "submit", commandStatus: result.commandStatus },
          };
          if (PROVIDER_SIDE.has(result.commandStatus)) continue;
          return last;
        }
        case "timeout":
          // It may have gone: recorded, never sent again through another provider at once.
          return network("ETIMEDOUT", `no submit_sm_resp from ${provider.config.id}`);
        case "dropped":
          if (result.written) {
            return network("ECONNRESET", `link to ${provider.config.id} dropped in flight`);
          }
          last = network("ECONNRESET", `link to ${provider.config.id} down`);
          continue;
      }
    }
    return last;
  };

  return {
    channel: "sms",
    async send(batch) {
      if (closed) return batch.map(() => network("ECLOSED", "the SMS channel is closed"));
      return await Promise.all(batch.map((m) => sendOne(m)));
    },
    setBinds(id, binds) {
      const p = providers.find((x) => x.config.id === id);
      if (!p || closed) return;
      p.wanted = Math.max(0, binds);
      p.resize();
    },
    status() {
      return providers.map((p) => ({
        id: p.config.id,
        bound: p.bound,
        binds: p.binds.length,
        receiversBound: p.config.bindMode === "pair"
          ? p.receivers.filter((b) => b.state === "bound").length
          : null,
        inFlight: p.binds.reduce((n, b) => n + b.inFlight, 0),
        window: p.config.window ?? 10,
        downSince: p.bound > 0 ? null : p.downSince ?? now(),
        lastError: p.binds.map((b) => b.lastError?.message).find(Boolean) ?? null,
      }));
    },
    async close() {
      closed = true;
      await Promise.all(
        providers.flatMap((p) => [...p.binds, ...p.receivers].map((b) => b.close())),
      );
    },
  };
}
