import { promises as dns } from "node:dns";
import type { QualificationInput } from "@sendgate/core";

/** One MX record as `dns.resolveMx` gives it. */
export interface MxRecord {
  exchange: string;
  priority: number;
}

/**
 * The DNS questions direct delivery asks; node:dns by default, a stub in tests. Errors carry
 * node's codes: `ENOTFOUND` (NXDOMAIN), `ENODATA` (the name exists, no record of that type), and
 * temporary ones (`ESERVFAIL`, `ETIMEOUT`, `ECONNREFUSED` …).
 */
export interface MxResolver {
  resolveMx(domain: string): Promise<MxRecord[]>;
  /** A and AAAA records of a name (the implicit MX of a domain without MX, RFC 5321 §5.1). */
  resolveAddresses(name: string): Promise<string[]>;
}

const NO_RECORD = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN"]);

async function addressesOf(name: string): Promise<string[]> {
  const settle = (p: Promise<string[]>) =>
    p.catch((error: NodeJS.ErrnoException) => {
      if (NO_RECORD.has(error.code ?? "")) return [];
      throw error;
    });
  const [v4, v6] = await Promise.all([settle(dns.resolve4(name)), settle(dns.resolve6(name))]);
  return [...v4, ...v6];
}

export const systemMxResolver: MxResolver = {
  resolveMx: (domain) => dns.resolveMx(domain),
  resolveAddresses: addressesOf,
};

/** Where a domain's mail goes, or why it goes nowhere. */
export type MxAnswer =
  /** Hosts to try in order: MX exchanges by preference, or the domain's own addresses. */
  | { kind: "hosts"; hosts: string[] }
  /** The domain takes no mail (null MX, NXDOMAIN, no MX and no address): soft 2 in the core. */
  | { kind: "refused"; input: QualificationInput }
  /** The lookup failed for now (SERVFAIL, timeout): ignored 3, retried. */
  | { kind: "transport"; input: QualificationInput };

/**
 * A synthetic reply for a domain that takes no mail. Written as the SMTP reply a relay would give
 * (550 5.1.2, "null MX" / "domain not found"), so that the core's rules read it as the domain's
 * fault, soft 2 (DOMAIN §10), whether we looked the domain up or a smarthost did. 5.1.2 rather
 * than RFC 7505's 5.1.10 for the null MX: DOMAIN §10 lists 5.1.10 with the unknown mailboxes.
 */
function noMail(text: string): MxAnswer {
  return {
    kind: "refused",
    input: { channel: "email", kind: "smtp", code: 550, enhanced: "5.1.2", text, stage: "connect" },
  };
}

function lookupFailed(error: unknown, what: string): MxAnswer {
  const code = (error as NodeJS.ErrnoException).code ?? "EDNS";
  // Worded as the core's rules know a temporary DNS failure: never "not found" or "lookup
  // failed", which read as a domain that does not exist.
  return {
    kind: "transport",
    input: {
      channel: "email",
      kind: "network",
      code,
      text: `temporary DNS failure for the ${what} query (${code})`,
    },
  };
}

export interface MxCacheOptions {
  resolver?: MxResolver;
  ttlMs: number;
  /** Domains kept (default 10,000); the oldest answer goes first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Resolves a recipient domain to the hosts to try, with a cache: one lookup per domain per TTL
 * however many messages a batch has for it (concurrent lookups share one promise). Final answers
 * (hosts, no mail) are cached; temporary failures are not, so the next message asks again.
 */
export function createMxCache(options: MxCacheOptions) {
  const resolver = options.resolver ?? systemMxResolver;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { answer: MxAnswer; expires: number }>();
  const inFlight = new Map<string, Promise<MxAnswer>>();

  async function lookup(domain: string): Promise<MxAnswer> {
    let records: MxRecord[];
    try {
      records = await resolver.resolveMx(domain);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOTFOUND" || code === "NXDOMAIN") {
        return noMail(`recipient domain not found: ${domain} does not exist (NXDOMAIN)`);
      }
      if (code !== "ENODATA") return lookupFailed(error, "MX");
      records = [];
    }
    // RFC 7505: a single MX "." of preference 0 says the domain accepts no mail. Node gives the
    // root as an empty exchange. A null MX beside real ones is a mistake: the real ones win.
    const real = records.filter((r) => r.exchange !== "" && r.exchange !== ".");
    if (records.length > 0 && real.length === 0) {
      return noMail(`recipient domain ${domain} accepts no mail (null MX, RFC 7505)`);
    }
    if (real.length > 0) {
      // Stable sort: among equal preferences the DNS order stands (resolvers rotate it).
      const hosts = [...real].sort((a, b) => a.priority - b.priority)
        .map((r) => r.exchange.replace(/\.$/u, "").toLowerCase());
      return { kind: "hosts", hosts: [...new Set(hosts)] };
    }
    // No MX at all: the domain itself is the MX (RFC 5321 §5.1), if it has an address.
    let addresses: string[];
    try {
      addresses = await resolver.resolveAddresses(domain);
    } catch (error) {
      return lookupFailed(error, "address");
    }
    if (addresses.length === 0) {
      return noMail(`recipient domain ${domain} has no MX and no address: no mail server`);
    }
    return { kind: "hosts", hosts: addresses };
  }

  return {
    resolve(domain: string): Promise<MxAnswer> {
      const key = domain.toLowerCase();
      const hit = cache.get(key);
      if (hit && hit.expires > now()) return Promise.resolve(hit.answer);
      const pending = inFlight.get(key);
      if (pending) return pending;
      const promise = lookup(key).then((answer) => {
        inFlight.delete(key);
        if (answer.kind !== "transport") {
          cache.delete(key);
          cache.set(key, { answer, expires: now() + options.ttlMs });
          if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
        }
        return answer;
      }, (error: unknown) => {
        inFlight.delete(key);
        return lookupFailed(error, "MX");
      });
      inFlight.set(key, promise);
      return promise;
    },
  };
}

export type MxCache = ReturnType<typeof createMxCache>;
