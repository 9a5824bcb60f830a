import type { MxResolver } from "./mx.ts";

/** An SMTP server the gateway hands mail to: the relay of `mode: "relay"`, or a domain's relay. */
export interface SmtpRelay {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Fail rather than send in clear when the server offers no STARTTLS. */
  requireTLS?: boolean;
  /** Never STARTTLS, even when offered: a relay on loopback or a private link (default false). */
  ignoreTLS?: boolean;
  auth?: { user: string; pass: string };
  /**
   * Verify the relay's certificate (default true: a relay we log in to must prove who it is).
   * False for a relay with a self-signed certificate, such as the simulator.
   */
  tlsRejectUnauthorized?: boolean;
  /** Connections open at once to this relay (default 10 for the relay, the per-host cap for a domain's). */
  maxConnections?: number;
}

/** What `config.dkim(domain)` answers for a From domain that signs: nodemailer's DKIM key. */
export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PEM (PKCS#1 or PKCS#8). */
  privateKey: string;
}

export interface SmtpTimeouts {
  /** TCP connect (default 30 s, Postfix's smtp_connect_timeout). */
  connectionMs?: number;
  /** From connect to the 220 greeting (default 60 s). */
  greetingMs?: number;
  /** Silence on an open connection (default 120 s). */
  socketMs?: number;
  /**
   * One message from the moment it has a connection to its final reply (default 10 min, RFC 5321
   * §4.5.3.2's DATA termination time): a server that trickles bytes never trips the socket
   * timeout, and `send` must still resolve.
   */
  messageMs?: number;
}

/** How the mail leaves: through one smarthost, or straight to each domain's MX. */
export type EmailRouting =
  | { mode: "relay"; relay: SmtpRelay }
  | {
    mode: "direct";
    /** Port of every MX (default 25; tests point it at the simulator). */
    mxPort?: number;
    /** Connections open at once to one MX host (default 5). */
    maxConnectionsPerHost?: number;
    /** MX and address lookups (default: node:dns). */
    resolver?: MxResolver;
    /**
     * How long an MX answer is kept (default 5 min). Node's resolveMx gives no TTL, so this is
     * a fixed time, short enough that a domain that moves its MX is followed within minutes.
     */
    mxCacheTtlMs?: number;
    /** Messages being prepared or sent at once by one `send` call (default 100). */
    maxConcurrentMessages?: number;
  };

interface EmailCommon {
  /** Secret of the correlation tokens (`messageToken`). */
  tokenSecret: string;
  /** Domain of the VERP return path: `{bouncePrefix}+{token}@{bounceDomain}`. */
  bounceDomain: string;
  /** Local part before the token (default `bounces`). */
  bouncePrefix?: string;
  /** Right-hand side of the Message-ID (default: the bounce domain). */
  messageIdDomain?: string;
  /** When set, `List-Unsubscribe: <{url}{token}>` and RFC 8058 one-click. */
  unsubscribeBaseUrl?: string;
  /** The DKIM key of a From domain, or null when it does not sign. */
  dkim?: (fromDomain: string) => DkimKey | null;
  /** A recipient domain's relay from the domain rules (DOMAIN §8), or null for the usual route. */
  relayFor?: (recipientDomain: string) => SmtpRelay | null;
  /** Our name in EHLO (default: nodemailer's, the host name when it is a FQDN). */
  heloName?: string;
  timeouts?: SmtpTimeouts;
  /** Messages one connection carries before it is replaced (default 1000). */
  maxMessagesPerConnection?: number;
  /** Deliveries whose compiled templates are kept (default 200). */
  templateCacheSize?: number;
}

export type EmailChannelConfig = EmailRouting & EmailCommon;

export const EMAIL_DEFAULTS = {
  bouncePrefix: "bounces",
  relayMaxConnections: 10,
  maxConnectionsPerHost: 5,
  mxPort: 25,
  mxCacheTtlMs: 5 * 60_000,
  maxConcurrentMessages: 100,
  maxMessagesPerConnection: 1000,
  templateCacheSize: 200,
  timeouts: { connectionMs: 30_000, greetingMs: 60_000, socketMs: 120_000, messageMs: 600_000 },
} as const;
