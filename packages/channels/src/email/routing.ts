import type { SMTPConnectionOptions } from "nodemailer/lib/smtp-connection";
import type { SendOutcome } from "../channel.ts";
import { EMAIL_DEFAULTS, type EmailChannelConfig, type SmtpRelay } from "./config.ts";
import type { PreparedMessage } from "./message.ts";
import { createMxCache } from "./mx.ts";
import { resultOutcome } from "./outcome.ts";
import { HostPool, type SmtpResult } from "./smtp-pool.ts";

/** Where one message goes and how it went: relay, a domain's relay, or the domain's MX hosts. */
export interface Router {
  deliver(message: PreparedMessage): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Pools kept before idle ones are dropped (direct delivery meets many MX hosts). */
const MAX_IDLE_POOLS = 1_000;

export function createRouter(config: EmailChannelConfig): Router {
  const t = { ...EMAIL_DEFAULTS.timeouts, ...config.timeouts };
  const common: SMTPConnectionOptions = {
    ...(config.heloName ? { name: config.heloName } : {}),
    connectionTimeout: t.connectionMs,
    greetingTimeout: t.greetingMs,
    socketTimeout: t.socketMs,
    logger: false,
  };
  const pools = new Map<string, HostPool>();
  const perHost = config.mode === "direct"
    ? config.maxConnectionsPerHost ?? EMAIL_DEFAULTS.maxConnectionsPerHost
    : EMAIL_DEFAULTS.maxConnectionsPerHost;

  function pool(
    key: string,
    connection: SMTPConnectionOptions,
    maxConnections: number,
    auth?: SmtpRelay["auth"],
  ) {
    let found = pools.get(key);
    if (!found) {
      if (pools.size >= MAX_IDLE_POOLS) {
        // An empty pool holds no connection; the relay's is kept (`deliver` holds it).
        for (const [k, p] of pools) if (p.empty && !k.startsWith("relay* ")) pools.delete(k);
      }
      found = new HostPool({
        connection,
        ...(auth ? { auth } : {}),
        maxConnections,
        maxMessages: config.maxMessagesPerConnection ?? EMAIL_DEFAULTS.maxMessagesPerConnection,
        messageTimeoutMs: t.messageMs,
      });
      pools.set(key, found);
    }
    return found;
  }

  /** A configured relay: TLS verified unless told otherwise, STARTTLS when offered. */
  function relayPool(relay: SmtpRelay, defaultConnections: number, main = false) {
    const key = `relay${main ? "*" : ""} ${relay.host}:${relay.port} ${relay.auth?.user ?? ""} ${
      relay.ignoreTLS ?? false
    }`;
    return pool(
      key,
      {
        ...common,
        host: relay.host,
        port: relay.port,
        secure: relay.secure ?? false,
        requireTLS: relay.requireTLS ?? false,
        ignoreTLS: relay.ignoreTLS ?? false,
        tls: { rejectUnauthorized: relay.tlsRejectUnauthorized ?? true },
      },
      relay.maxConnections ?? defaultConnections,
      relay.auth,
    );
  }

  /**
   * An MX: opportunistic STARTTLS without certificate checks. MX certificates are often
   * self-signed or for another name, and nothing says which name an MX should prove (no
   * MTA-STS or DANE here): refusing such a certificate would only send the mail in clear or not
   * at all, while an encrypted session still defeats a passive listener (RFC 7435). A server
   * that answers STARTTLS with an error keeps the session in clear (`opportunisticTLS`); a
   * handshake that fails ends it (ETLS: ignored 3, retried).
   */
  function mxPool(host: string, port: number) {
    return pool(`mx ${host}:${port}`, {
      ...common,
      host,
      port,
      secure: false,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
    }, perHost);
  }

  async function closeAll() {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }

  const job = (message: PreparedMessage) => ({ envelope: message.envelope, build: message.build });

  if (config.mode === "relay") {
    const relay = relayPool(config.relay, EMAIL_DEFAULTS.relayMaxConnections, true);
    return {
      async deliver(message) {
        const override = config.relayFor?.(message.domain);
        const target = override ? relayPool(override, perHost) : relay;
        return resultOutcome(await target.send(job(message)));
      },
      close: () => closeAll(),
    };
  }

  const mx = createMxCache({
    ...(config.resolver ? { resolver: config.resolver } : {}),
    ttlMs: config.mxCacheTtlMs ?? EMAIL_DEFAULTS.mxCacheTtlMs,
  });
  const mxPort = config.mxPort ?? EMAIL_DEFAULTS.mxPort;

  return {
    async deliver(message) {
      const override = config.relayFor?.(message.domain);
      if (override) return resultOutcome(await relayPool(override, perHost).send(job(message)));
      const answer = await mx.resolve(message.domain);
      if (answer.kind !== "hosts") return { kind: answer.kind, input: answer.input };
      // Preference order, but hosts that just failed go last: their next message should not
      // wait for a connect timeout when another MX is up.
      const candidates = answer.hosts.map((host) => mxPool(host, mxPort));
      const ordered = [...candidates.filter((p) => !p.down), ...candidates.filter((p) => p.down)];
      let last: SmtpResult | null = null;
      for (const target of ordered) {
        const result = await target.send(job(message));
        // Only a session that never got ready moves on: once MAIL FROM left, the message may
        // have been taken, and trying another MX could deliver it twice.
        if (result.ok || result.phase !== "connect") return resultOutcome(result);
        last = result;
      }
      return resultOutcome(last!);
    },
    close: () => closeAll(),
  };
}
