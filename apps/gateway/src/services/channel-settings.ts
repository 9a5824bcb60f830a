import { createPrivateKey, randomBytes } from "node:crypto";
import { and, asc, eq } from "drizzle-orm";
import { generateVapidKeys, vapidKeysError } from "@sendgate/channels";
import { channelSettings, type Database, dkimKeys } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { ServiceError } from "./errors.ts";

/**
 * Operator settings of the sending channels, picked up by running dispatchers within seconds
 * (DOMAIN: no restart). What is secret (a relay password, the VAPID private key, the token
 * secret, DKIM keys) is write-only: stored, used, never answered.
 */
export interface EmailSettings {
  mode: "relay" | "direct";
  relay?: {
    host: string;
    port: number;
    secure?: boolean | undefined;
    requireTLS?: boolean | undefined;
    ignoreTLS?: boolean | undefined;
    tlsRejectUnauthorized?: boolean | undefined;
    user?: string | undefined;
    maxConnections?: number | undefined;
  } | undefined;
  direct?: { mxPort?: number | undefined; maxConnectionsPerHost?: number | undefined } | undefined;
  bounceDomain: string;
  bouncePrefix?: string | undefined;
  messageIdDomain?: string | undefined;
  /** Where `List-Unsubscribe` points: the gateway's public URL followed by `/u/`. */
  unsubscribeBaseUrl?: string | undefined;
  workers?: number | undefined;
  batchSize?: number | undefined;
}

export interface PushSettings {
  /** VAPID `sub`: `mailto:` or `https:` (RFC 8292). */
  subject: string;
  publicKey: string;
  workers?: number | undefined;
  batchSize?: number | undefined;
  maxInFlight?: number | undefined;
  timeoutMs?: number | undefined;
  /** Verify push services' certificates (default true). */
  tlsRejectUnauthorized?: boolean | undefined;
}

interface Secrets {
  tokenSecret: string;
  password?: string;
  privateKey?: string;
}

export type StoredChannel =
  | { channel: "email"; settings: EmailSettings; secrets: Secrets; updatedAt: Date }
  | { channel: "push"; settings: PushSettings; secrets: Secrets; updatedAt: Date };

/** Every configured channel with its secrets: for the dispatcher, never for an answer. */
export async function loadChannelSettings(database: Database): Promise<StoredChannel[]> {
  const rows = await database.db.select().from(channelSettings);
  return rows.map((r) =>
    ({
      channel: r.channel,
      settings: r.settings,
      secrets: r.secrets,
      updatedAt: r.updatedAt,
    }) as StoredChannel
  );
}

/** A channel's settings as the API shows them: secrets only as "set". */
function view(c: StoredChannel) {
  return c.channel === "email"
    ? {
      channel: c.channel,
      ...c.settings,
      hasPassword: Boolean(c.secrets.password),
      updatedAt: c.updatedAt.toISOString(),
    }
    : { channel: c.channel, ...c.settings, updatedAt: c.updatedAt.toISOString() };
}

export async function listChannels(deps: AppDeps) {
  return { items: (await loadChannelSettings(deps.database)).map(view) };
}

export async function getChannel(deps: AppDeps, channel: "email" | "push") {
  const found = (await loadChannelSettings(deps.database)).find((c) => c.channel === channel);
  if (!found) throw new ServiceError("notFound", `the ${channel} channel is not configured`);
  return view(found);
}

export type EmailInput = EmailSettings & {
  relay?: EmailSettings["relay"] & { password?: string | undefined };
};
export type PushInput = Omit<PushSettings, "publicKey"> & {
  publicKey?: string | undefined;
  privateKey?: string | undefined;
};

/**
 * Replaces a channel's settings. A secret left out keeps its stored value (write-only fields);
 * VAPID keys are generated when none are given nor stored; a token secret is made once.
 */
export async function putChannel(
  deps: Pick<AppDeps, "database" | "now">,
  input: { channel: "email"; settings: EmailInput } | { channel: "push"; settings: PushInput },
) {
  const [current] = await deps.database.db.select().from(channelSettings)
    .where(eq(channelSettings.channel, input.channel));
  const old = (current?.secrets ?? {}) as Partial<Secrets>;
  const secrets: Secrets = {
    tokenSecret: old.tokenSecret ?? randomBytes(32).toString("base64url"),
  };
  let settings: EmailSettings | PushSettings;
  if (input.channel === "email") {
    const { relay, ...rest } = input.settings;
    if (rest.mode === "relay" && !relay) {
      throw new ServiceError("invalid", "relay mode needs a relay", [{
        path: "relay",
        message: "give host and port, or choose mode direct",
      }]);
    }
    const { password, ...relaySettings } = relay ?? {};
    settings = { ...rest, ...(relay ? { relay: relaySettings as EmailSettings["relay"] } : {}) };
    const pass = password ?? old.password;
    if (pass) secrets.password = pass;
  } else {
    const { privateKey, publicKey, ...rest } = input.settings;
    if ((privateKey === undefined) !== (publicKey === undefined)) {
      throw new ServiceError("invalid", "give both VAPID keys, or neither", [{
        path: privateKey === undefined ? "privateKey" : "publicKey",
        message: "the other key is given",
      }]);
    }
    let keys = privateKey && publicKey ? { publicKey, privateKey } : null;
    const stored = (current?.settings as PushSettings | undefined)?.publicKey;
    if (!keys && stored && old.privateKey) keys = { publicKey: stored, privateKey: old.privateKey };
    keys ??= generateVapidKeys();
    const problem = vapidKeysError({ subject: rest.subject, ...keys });
    if (problem) {
      throw new ServiceError("invalid", "the VAPID settings cannot be used", [{
        path: privateKey ? "privateKey" : "subject",
        message: problem,
      }]);
    }
    settings = { ...rest, publicKey: keys.publicKey };
    secrets.privateKey = keys.privateKey;
  }
  const at = new Date(deps.now());
  const [row] = await deps.database.db.insert(channelSettings)
    .values({ channel: input.channel, settings, secrets, updatedAt: at })
    .onConflictDoUpdate({
      target: channelSettings.channel,
      set: { settings, secrets, updatedAt: at },
    })
    .returning();
  return view(
    {
      channel: row!.channel,
      settings: row!.settings,
      secrets,
      updatedAt: row!.updatedAt,
    } as StoredChannel,
  );
}

export async function deleteChannel(deps: AppDeps, channel: "email" | "push") {
  const removed = await deps.database.db.delete(channelSettings)
    .where(eq(channelSettings.channel, channel)).returning({ channel: channelSettings.channel });
  if (removed.length === 0) {
    throw new ServiceError("notFound", `the ${channel} channel is not configured`);
  }
}

// ---------------------------------------------------------------------------------------------
// DKIM keys

export interface DkimKeyView {
  domain: string;
  selector: string;
  algorithm: string;
  createdAt: string;
}

/** Why a PEM private key cannot sign, or null (checked before it is stored). */
export function dkimKeyProblem(pem: string): { problem: string } | { algorithm: string } {
  try {
    const key = createPrivateKey(pem);
    const type = key.asymmetricKeyType;
    if (type !== "rsa" && type !== "ed25519") {
      return { problem: `a ${type} key: DKIM signs with RSA or Ed25519` };
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (type === "rsa" && bits !== undefined && bits < 1024) {
      return { problem: `an RSA key of ${bits} bits: at least 1024 (2048 recommended)` };
    }
    return { algorithm: type };
  } catch {
    return { problem: "not a PEM private key (PKCS#1 or PKCS#8)" };
  }
}

export async function putDkimKey(
  deps: AppDeps,
  domain: string,
  selector: string,
  privateKey: string,
): Promise<DkimKeyView> {
  const check = dkimKeyProblem(privateKey);
  if ("problem" in check) {
    throw new ServiceError("invalid", "the key cannot sign", [{
      path: "privateKey",
      message: check.problem,
    }]);
  }
  const at = new Date(deps.now());
  await deps.database.db.insert(dkimKeys).values({ domain, selector, privateKey, createdAt: at })
    .onConflictDoUpdate({
      target: [dkimKeys.domain, dkimKeys.selector],
      set: { privateKey, createdAt: at },
    });
  return { domain, selector, algorithm: check.algorithm, createdAt: at.toISOString() };
}

export async function listDkimKeys(deps: AppDeps): Promise<{ items: DkimKeyView[] }> {
  const rows = await deps.database.db.select().from(dkimKeys).orderBy(
    asc(dkimKeys.domain),
    asc(dkimKeys.selector),
  );
  return {
    items: rows.map((r) => {
      const check = dkimKeyProblem(r.privateKey);
      return {
        domain: r.domain,
        selector: r.selector,
        algorithm: "algorithm" in check ? check.algorithm : "unusable",
        createdAt: r.createdAt.toISOString(),
      };
    }),
  };
}

export async function deleteDkimKey(deps: AppDeps, domain: string, selector: string) {
  const removed = await deps.database.db.delete(dkimKeys).where(
    and(eq(dkimKeys.domain, domain), eq(dkimKeys.selector, selector)),
  ).returning({ selector: dkimKeys.selector });
  if (removed.length === 0) {
    throw new ServiceError("notFound", `no DKIM key ${selector} for ${domain}`);
  }
}

/** Every DKIM key (with its secret): for the email channel. */
export async function loadDkimKeys(database: Database) {
  return await database.db.select().from(dkimKeys).orderBy(
    asc(dkimKeys.domain),
    asc(dkimKeys.selector),
  );
}
