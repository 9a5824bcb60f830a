import { asc } from "drizzle-orm";
import {
  type AllowList,
  type ChannelAdapter,
  createEmailChannel,
  createPushChannel,
  createSmsChannel,
  type DkimKey,
  type SmsDeliverEvent,
  type SmtpRelay,
} from "@sendgate/channels";
import type { Channel, ReceiptIdFormat } from "@sendgate/core";
import { type Database, domainRules } from "@sendgate/db";
import { errorFields, type Logger } from "../log.ts";
import {
  loadChannelSettings,
  loadDkimKeys,
  type StoredChannel,
} from "../services/channel-settings.ts";
import { loadProviders, type StoredProvider } from "../services/sms-providers.ts";
import type { ChannelPlan } from "./dispatcher.ts";
import { ReportSink } from "./report-sink.ts";

/**
 * Messages a worker claims at once when the settings say nothing. A batch's statements cost about
 * the same for 100 messages as for 200, so 200 halves the database work per message (bench/e2e
 * email on PostgreSQL: its CPU 190 -> 160 ms per 1,000 messages). A batch goes out about 20
 * messages at a time (email: two per relay connection), so it stays within the default 60 s lease
 * unless a message takes several seconds; a slow destination is better served by a smaller batch.
 */
const DEFAULT_BATCH_SIZE = 200;

/**
 * The channels a dispatcher sends, built from the operator's settings and rebuilt when they
 * change (checked every few seconds, no restart). A replaced adapter is closed once the batches
 * it has in flight are done. DKIM keys and per-domain relays are read with the settings, since
 * the email channel asks for them synchronously.
 */
export interface ChannelRegistry {
  plans(): ReadonlyMap<Channel, ChannelPlan>;
  /** How an SMS provider renders ids in its receipts (for the dispatcher's report loop). */
  receiptIdFormat(provider: string): ReceiptIdFormat;
  /** Reads the settings now (the dispatcher also does every few seconds). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface RegistryOptions {
  database: Database;
  logger: Logger;
  /** Push endpoints allowed although private (SENDGATE_PUSH_ALLOW). */
  pushAllow: AllowList;
  refreshMs?: number;
  /** Grace before a replaced adapter is closed. */
  drainMs?: number;
  now?: () => number;
}

type RelayRule = { domain: string; relay: { host: string; port: number } | null };

/** A recipient domain's relay: exact domain, then `*.parent` rules, then `*` (as DOMAIN §8). */
function relayFor(rules: readonly RelayRule[], domain: string): SmtpRelay | null {
  const d = domain.toLowerCase();
  const matching = rules.filter((r) =>
    r.domain === d || r.domain === "*" ||
    (r.domain.startsWith("*.") && d.endsWith(r.domain.slice(1)))
  ).sort((a, b) => rank(b.domain, d) - rank(a.domain, d));
  const found = matching[0];
  return found?.relay ? { host: found.relay.host, port: found.relay.port } : null;
}
const rank = (
  pattern: string,
  d: string,
) => (pattern === d ? 1e6 : pattern === "*" ? 0 : pattern.length);

export function createChannelRegistry(options: RegistryOptions): ChannelRegistry {
  const { database, logger } = options;
  const refreshMs = options.refreshMs ?? 5_000;
  const drainMs = options.drainMs ?? 60_000;
  let current = new Map<Channel, ChannelPlan & { version: string }>();
  let dkim: DkimKey[] = [];
  let relays: RelayRule[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;
  const retiring = new Set<ReturnType<typeof setTimeout>>();
  const retired: ChannelAdapter[] = [];
  const now = options.now ?? Date.now;
  const sink = new ReportSink(database, now);
  let providers: StoredProvider[] = [];

  /** SMS: every provider in one adapter, rebuilt when any of them changes. */
  const buildSms = (list: readonly StoredProvider[]): ChannelPlan => {
    const byId = new Map(list.map((p) => [p.id, p]));
    const startedAt = now();
    const adapter = createSmsChannel({
      providers: list.map((p) => {
        const s = p.settings;
        return {
          id: p.id,
          host: s.host,
          port: s.port,
          systemId: s.systemId,
          password: p.secrets.password ?? "",
          ...(s.systemType !== undefined ? { systemType: s.systemType } : {}),
          ...(s.addressRange !== undefined ? { addressRange: s.addressRange } : {}),
          binds: s.binds ?? 1,
          bindMode: s.bindMode ?? "transceiver",
          ...(s.window !== undefined ? { window: s.window } : {}),
          ...(s.responseTimeoutMs !== undefined ? { responseTimeoutMs: s.responseTimeoutMs } : {}),
          ...(s.throughput !== undefined ? { throughput: s.throughput } : {}),
          ...(s.enquireLinkMs !== undefined ? { enquireLinkMs: s.enquireLinkMs } : {}),
          longMessages: s.longMessages ?? "udh",
          prefixes: s.prefixes ?? [],
          priority: s.priority ?? 100,
          source: { address: s.defaultSender ?? "Sendgate" },
        };
      }),
      onDeliver: (event: SmsDeliverEvent) => storeDeliver(event, byId.get(event.provider)),
      leased: true,
      log: (level, message, fields) => logger[level]({ channel: "sms", ...fields }, message),
    });
    return {
      adapter,
      workers: 4,
      batchSize: DEFAULT_BATCH_SIZE,
      down: () => {
        const status = adapter.status();
        if (status.some((p) => p.bound > 0)) return null;
        const since = status.map((p) => p.downSince ?? startedAt);
        return since.length ? Math.min(...since) : startedAt;
      },
      bindLeases: {
        providers: () => list.map((p) => ({ id: p.id, binds: p.settings.binds ?? 1 })),
        setBinds: (provider, binds) => adapter.setBinds(provider, binds),
      },
    };
  };

  /** A deliver_sm, stored before the bind acknowledges it. */
  const storeDeliver = async (event: SmsDeliverEvent, provider: StoredProvider | undefined) => {
    if (event.receipt) {
      await sink.put({
        kind: "report",
        value: {
          provider: event.provider,
          source: "smpp",
          remoteId: event.receipt.id,
          stat: event.receipt.stat,
          err: event.receipt.err ?? null,
          text: event.receipt.text ?? null,
          doneAt: event.receipt.doneDate?.toISOString() ?? null,
        },
      });
    } else if (event.mo) {
      await sink.put({
        kind: "mo",
        value: {
          provider: event.provider,
          from: event.mo.from,
          to: event.mo.to,
          text: event.mo.text,
        },
        ...(provider?.settings.stopKeywords
          ? { stopKeywords: provider.settings.stopKeywords }
          : {}),
      });
    }
  };

  const build = (c: StoredChannel): ChannelPlan => {
    if (c.channel === "email") {
      const s = c.settings;
      const routing = s.mode === "relay" && s.relay
        ? {
          mode: "relay" as const,
          relay: {
            host: s.relay.host,
            port: s.relay.port,
            ...(s.relay.secure !== undefined ? { secure: s.relay.secure } : {}),
            ...(s.relay.requireTLS !== undefined ? { requireTLS: s.relay.requireTLS } : {}),
            ...(s.relay.ignoreTLS !== undefined ? { ignoreTLS: s.relay.ignoreTLS } : {}),
            ...(s.relay.tlsRejectUnauthorized !== undefined
              ? { tlsRejectUnauthorized: s.relay.tlsRejectUnauthorized }
              : {}),
            ...(s.relay.maxConnections !== undefined
              ? { maxConnections: s.relay.maxConnections }
              : {}),
            ...(s.relay.user && c.secrets.password
              ? { auth: { user: s.relay.user, pass: c.secrets.password } }
              : {}),
          },
        }
        : {
          mode: "direct" as const,
          ...(s.direct?.mxPort !== undefined ? { mxPort: s.direct.mxPort } : {}),
          ...(s.direct?.maxConnectionsPerHost !== undefined
            ? { maxConnectionsPerHost: s.direct.maxConnectionsPerHost }
            : {}),
        };
      return {
        adapter: createEmailChannel({
          ...routing,
          tokenSecret: c.secrets.tokenSecret,
          bounceDomain: s.bounceDomain,
          ...(s.bouncePrefix ? { bouncePrefix: s.bouncePrefix } : {}),
          ...(s.messageIdDomain ? { messageIdDomain: s.messageIdDomain } : {}),
          ...(s.unsubscribeBaseUrl ? { unsubscribeBaseUrl: s.unsubscribeBaseUrl } : {}),
          dkim: (fromDomain) => dkim.find((k) => k.domainName === fromDomain) ?? null,
          relayFor: (domain) => relayFor(relays, domain),
        }),
        workers: s.workers ?? 4,
        batchSize: s.batchSize ?? DEFAULT_BATCH_SIZE,
      };
    }
    const s = c.settings;
    return {
      adapter: createPushChannel({
        vapid: { subject: s.subject, publicKey: s.publicKey, privateKey: c.secrets.privateKey! },
        tokenSecret: c.secrets.tokenSecret,
        allow: options.pushAllow,
        ...(s.maxInFlight !== undefined ? { maxInFlight: s.maxInFlight } : {}),
        ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
        ...(s.tlsRejectUnauthorized !== undefined
          ? { tls: { rejectUnauthorized: s.tlsRejectUnauthorized } }
          : {}),
      }),
      workers: s.workers ?? 4,
      batchSize: s.batchSize ?? DEFAULT_BATCH_SIZE,
    };
  };

  const retire = (adapter: ChannelAdapter) => {
    retired.push(adapter);
    const t = setTimeout(() => {
      retiring.delete(t);
      adapter.close().catch((e) => logger.warn(errorFields(e), "closing a replaced channel"));
    }, drainMs);
    retiring.add(t);
  };

  const refresh = async () => {
    const [channels, keys, rules, smsList] = await Promise.all([
      loadChannelSettings(database),
      loadDkimKeys(database),
      database.db.select().from(domainRules).orderBy(asc(domainRules.domain)),
      loadProviders(database),
    ]);
    providers = smsList;
    dkim = keys.map((k) => ({
      domainName: k.domain,
      keySelector: k.selector,
      privateKey: k.privateKey,
    }));
    relays = rules.flatMap((r) => {
      const relay = (r.settings as { relay?: RelayRule["relay"] }).relay;
      return relay === undefined ? [] : [{ domain: r.domain, relay }];
    });
    const next = new Map<Channel, ChannelPlan & { version: string }>();
    for (const c of channels) {
      const version = `${c.updatedAt.getTime()}`;
      const had = current.get(c.channel);
      if (had && had.version === version) {
        next.set(c.channel, had);
        continue;
      }
      try {
        next.set(c.channel, { ...build(c), version });
        if (had) retire(had.adapter);
        logger.info(
          { channel: c.channel },
          had ? "channel settings changed" : "channel configured",
        );
      } catch (error) {
        // Settings the API accepted but the channel refuses (a key that no longer parses):
        // keep what runs, and say so.
        logger.error({ channel: c.channel, ...errorFields(error) }, "channel settings unusable");
        if (had) next.set(c.channel, had);
      }
    }
    if (providers.length) {
      const version = providers.map((p) => `${p.id}@${p.updatedAt.getTime()}`).join(",");
      const had = current.get("sms");
      if (had && had.version === version) next.set("sms", had);
      else {
        try {
          next.set("sms", { ...buildSms(providers), version });
          if (had) retire(had.adapter);
          logger.info(
            { channel: "sms", providers: providers.map((p) => p.id) },
            had ? "SMS providers changed" : "SMS providers configured",
          );
        } catch (error) {
          logger.error({ channel: "sms", ...errorFields(error) }, "SMS providers unusable");
          if (had) next.set("sms", had);
        }
      }
    }
    for (const [channel, had] of current) if (!next.has(channel)) retire(had.adapter);
    current = next;
  };

  timer = setInterval(() => {
    refresh().catch((e) => logger.error(errorFields(e), "reading channel settings"));
  }, refreshMs);
  timer.unref?.();
  return {
    plans: () => current,
    receiptIdFormat: (provider) =>
      providers.find((p) => p.id === provider)?.settings.receiptIdFormat ?? "auto",
    refresh,
    async close() {
      if (timer) clearInterval(timer);
      for (const t of retiring) clearTimeout(t);
      const open = [...retired, ...[...current.values()].map((p) => p.adapter)];
      await Promise.all(open.map((a) => a.close().catch(() => {})));
      await sink.drain();
    },
  };
}
