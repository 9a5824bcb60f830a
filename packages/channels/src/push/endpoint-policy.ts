import { lookup as dnsLookup } from "node:dns";
import { lookup as dnsLookupPromise } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Where the gateway may send Web Push requests. A push subscription's endpoint is a URL chosen by
 * whoever registers it, and the gateway POSTs to it from inside our network: without a policy
 * that is server-side request forgery against loopback services, cloud metadata
 * (169.254.169.254, fd00:ec2::254, metadata.google.internal) and private networks.
 *
 * The policy runs twice. At intake, `checkEndpoint` judges the URL itself and
 * `checkEndpointResolved` also what DNS says now. At connection time, `guardedLookup` judges every
 * address the socket is about to use, which is the check that matters against DNS rebinding (a
 * name that was public at intake and points inside later); `connectTargetError` covers literal IP
 * hosts, for which Node never calls `lookup`.
 *
 * IP parsing and CIDR matching come from ipaddr.js; the ranges are ours, listed below, so that
 * what counts as public does not move with the library's own (broader, changing) range names.
 */

/** A non-public range, named for messages; `invalid` is anything that does not parse as an IP. */
export type AddressRange =
  | "unspecified"
  | "loopback"
  | "private"
  | "carrierGradeNat"
  | "linkLocal"
  | "ietfProtocol"
  | "documentation"
  | "benchmarking"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "uniqueLocal"
  | "siteLocal"
  | "invalid";

export type AddressClass = "public" | AddressRange;

/**
 * Hosts and networks the operator allows although they are not public (a simulator on loopback,
 * a push service on the private network). Built by `parseAllowList`; `[]` allows nothing.
 */
export type AllowEntry =
  | { kind: "host"; host: string }
  | { kind: "network"; address: string; prefix: number };
export type AllowList = readonly AllowEntry[];

export type AllowListParse =
  | { ok: true; allow: AllowList }
  | { ok: false; error: string };

export type EndpointCheck =
  | {
    ok: true;
    /** The normalized href, without fragment. */
    url: string;
    /** Lower case, without brackets or trailing dot: what to resolve or connect to. */
    host: string;
    literalIp: boolean;
  }
  | { ok: false; error: string };

/** Resolves a host name to its addresses; rejects when it cannot. */
export type Resolve = (host: string) => Promise<string[]>;

type IP = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [IP, number];

const cidr = (text: string): Cidr => ipaddr.parseCIDR(text);

// IANA's IPv4 special-purpose registry (RFC 6890 and successors), reduced to what a push service
// can never legitimately be. First match wins: the broadcast address sits inside 240/4.
const IPV4_RANGES: readonly [AddressRange, Cidr][] = [
  ["unspecified", cidr("0.0.0.0/8")],
  ["loopback", cidr("127.0.0.0/8")],
  ["private", cidr("10.0.0.0/8")],
  ["private", cidr("172.16.0.0/12")],
  ["private", cidr("192.168.0.0/16")],
  // RFC 6598 shared space; also where Alibaba Cloud serves metadata (100.100.100.200).
  ["carrierGradeNat", cidr("100.64.0.0/10")],
  // Cloud metadata at 169.254.169.254 (AWS, GCP, Azure, OpenStack).
  ["linkLocal", cidr("169.254.0.0/16")],
  ["ietfProtocol", cidr("192.0.0.0/24")],
  ["documentation", cidr("192.0.2.0/24")],
  ["documentation", cidr("198.51.100.0/24")],
  ["documentation", cidr("203.0.113.0/24")],
  ["benchmarking", cidr("198.18.0.0/15")],
  ["multicast", cidr("224.0.0.0/4")],
  ["broadcast", cidr("255.255.255.255/32")],
  ["reserved", cidr("240.0.0.0/4")],
];

// IPv6 ranges judged as such. Prefixes that carry an IPv4 address are judged by that address
// instead (see `embeddedIPv4`), and what is left outside 2000::/3 is not allocated for unicast.
const IPV6_RANGES: readonly [AddressRange, Cidr][] = [
  ["unspecified", cidr("::/128")],
  ["loopback", cidr("::1/128")],
  ["linkLocal", cidr("fe80::/10")],
  // Deprecated by RFC 3879 but still routed inside some networks.
  ["siteLocal", cidr("fec0::/10")],
  // Covers AWS's IPv6 metadata endpoint fd00:ec2::254.
  ["uniqueLocal", cidr("fc00::/7")],
  ["multicast", cidr("ff00::/8")],
  ["documentation", cidr("2001:db8::/32")],
  ["documentation", cidr("3fff::/20")],
  ["benchmarking", cidr("2001:2::/48")],
];
const GLOBAL_UNICAST = cidr("2000::/3");
// IETF protocol assignments; Teredo (2001::/32) and benchmarking inside it are handled first.
const IETF_PROTOCOL_V6 = cidr("2001::/23");

const IPV4_MAPPED = cidr("::ffff:0:0/96");
const IPV4_TRANSLATED = cidr("::ffff:0:0:0/96");
const IPV4_COMPATIBLE = cidr("::/96");
const NAT64 = cidr("64:ff9b::/96");
const SIX_TO_FOUR = cidr("2002::/16");
const TEREDO = cidr("2001::/32");

const RANGE_TEXT: Record<AddressRange, string> = {
  unspecified: "an unspecified address",
  loopback: "a loopback address",
  private: "a private address",
  carrierGradeNat: "a carrier-grade NAT (shared) address",
  linkLocal: "a link-local address",
  ietfProtocol: "an IETF protocol address",
  documentation: "a documentation address",
  benchmarking: "a benchmarking address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  reserved: "a reserved address",
  uniqueLocal: "a unique local address",
  siteLocal: "a site-local address",
  invalid: "not a valid IP address",
};

// Names that never leave the local network: RFC 6761 (localhost), RFC 6762 (.local), RFC 8375
// (home.arpa), ICANN's 2024 reservation of .internal (metadata.google.internal), and the
// `localdomain` many resolvers append.
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "localdomain"];

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function at(parts: readonly number[], index: number): number {
  return parts[index] ?? 0;
}

/**
 * The IPv4 addresses an IPv6 address stands for, which decide where a packet really goes: mapped
 * (::ffff:a.b.c.d, how a dual-stack socket reaches IPv4), translated and compatible forms, NAT64
 * (64:ff9b::/96), 6to4 (2002:aabb:ccdd::) and Teredo (server in bits 32–63, client inverted in
 * the last 32 bits).
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = address.parts;
  if (
    address.match(IPV4_MAPPED) || address.match(IPV4_TRANSLATED) ||
    address.match(IPV4_COMPATIBLE) || address.match(NAT64)
  ) {
    return [v4(at(p, 6), at(p, 7))];
  }
  if (address.match(SIX_TO_FOUR)) return [v4(at(p, 1), at(p, 2))];
  if (address.match(TEREDO)) {
    return [v4(at(p, 2), at(p, 3)), v4(at(p, 6) ^ 0xffff, at(p, 7) ^ 0xffff)];
  }
  return [];
}

interface Verdict {
  range: AddressClass;
  /** The embedded IPv4 address that decided an IPv6 verdict. */
  via?: string;
}

function judgeV4(address: ipaddr.IPv4): AddressClass {
  for (const [range, net] of IPV4_RANGES) if (address.match(net)) return range;
  return "public";
}

function judge(address: IP): Verdict {
  if (address instanceof ipaddr.IPv4) return { range: judgeV4(address) };
  for (const [range, net] of IPV6_RANGES) if (address.match(net)) return { range };
  const embedded = embeddedIPv4(address);
  if (embedded.length > 0) {
    for (const inner of embedded) {
      const range = judgeV4(inner);
      if (range !== "public") return { range, via: inner.toString() };
    }
    return { range: "public" };
  }
  if (!address.match(GLOBAL_UNICAST)) return { range: "reserved" };
  if (address.match(IETF_PROTOCOL_V6)) return { range: "ietfProtocol" };
  return { range: "public" };
}

/** Brackets and trailing dots off, lower case: the one form hosts are compared in. */
function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.replace(/\.+$/u, "");
}

/** Any IP form (bracketed IPv6, IPv4 shorthand as inet_aton reads it), or null for a name. */
function parseIp(text: string): IP | null {
  const t = normalizeHost(text);
  if (!ipaddr.isValid(t)) return null;
  try {
    return ipaddr.parse(t);
  } catch {
    return null;
  }
}

/** "10.0.0.1 is a private address", or as an apposition "10.0.0.1, a private address". */
function describe(address: string, verdict: Verdict, apposition = false): string {
  const what = RANGE_TEXT[verdict.range as AddressRange];
  if (verdict.via) {
    return `${address}${apposition ? ", which" : ""} embeds IPv4 ${verdict.via}, ${what}`;
  }
  return `${address}${apposition ? "," : " is"} ${what}`;
}

/**
 * `"public"` when the address may be a push endpoint, else the name of the range that forbids
 * it. IPv6 addresses carrying an IPv4 address (mapped, NAT64, 6to4, Teredo…) are judged by it.
 * A string that is not an IP address is `"invalid"`, so that garbage fails closed.
 */
export function classifyAddress(ip: string): AddressClass {
  const address = parseIp(ip);
  return address ? judge(address).range : "invalid";
}

function networkAllows(entry: AllowEntry, candidates: readonly IP[]): boolean {
  if (entry.kind !== "network") return false;
  const net = parseIp(entry.address);
  if (!net) return false;
  return candidates.some((c) => c.kind() === net.kind() && c.match(net, entry.prefix));
}

function addressAllowed(address: IP, allow: AllowList): boolean {
  // A mapped address is the IPv4 address itself on a dual-stack socket: allowing 127.0.0.1 allows
  // ::ffff:127.0.0.1. The other embeddings reach a different machine and are not widened.
  const candidates: IP[] = [address];
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    candidates.push(address.toIPv4Address());
  }
  return allow.some((entry) => networkAllows(entry, candidates));
}

function hostAllowed(host: string, allow: AllowList): boolean {
  const name = normalizeHost(host);
  if (allow.some((e) => e.kind === "host" && e.host === name)) return true;
  const address = parseIp(name);
  return address !== null && addressAllowed(address, allow);
}

function internalName(host: string): string | null {
  for (const suffix of INTERNAL_SUFFIXES) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return `an internal name (.${suffix})`;
  }
  // A single label is completed by the resolver's search list into a local name.
  if (host.split(".").filter((l) => l !== "").length < 2) return "a single-label name";
  return null;
}

/** Why a host (literal IP or name) may not be contacted, ignoring the allow list. */
function hostProblem(host: string): string | null {
  const address = parseIp(host);
  if (address) {
    const verdict = judge(address);
    return verdict.range === "public" ? null : describe(host, verdict);
  }
  const why = internalName(host);
  return why ? `${host} is ${why}` : null;
}

const HOST_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/u;
const IPV4_DECIMAL = /^\d{1,3}(?:\.\d{1,3}){3}$/u;

function strictIp(text: string): IP | null {
  if (text.includes(":")) {
    // Zone ids name an interface of this machine; they have no place in a network policy.
    if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return null;
    return ipaddr.IPv6.parse(text);
  }
  // Four decimal parts only: 10.1 or 0x7f.1 in an operator setting is more likely a typo than a
  // wish, and the reader of the setting should see the address that is allowed.
  if (!IPV4_DECIMAL.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text);
}

function parseAllowEntry(entry: string): AllowEntry | string {
  const bracketed = /^\[([^\]]*)\](\/\d+)?$/u.exec(entry);
  const text = bracketed ? `${bracketed[1]}${bracketed[2] ?? ""}` : entry;
  if (!bracketed && /^[^:]+:\d+$/u.test(text)) {
    return `allow list entry "${entry}" has a port; entries take none and allow every port`;
  }
  const slash = text.indexOf("/");
  if (slash >= 0 || bracketed || text.includes(":") || IPV4_DECIMAL.test(text)) {
    const address = strictIp(slash >= 0 ? text.slice(0, slash) : text);
    if (!address || (bracketed && address.kind() !== "ipv6")) {
      return `allow list entry "${entry}" is not a valid IP address or network`;
    }
    const max = address.kind() === "ipv4" ? 32 : 128;
    const prefixText = slash >= 0 ? text.slice(slash + 1) : String(max);
    const prefix = /^\d{1,3}$/u.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) {
      return `allow list entry "${entry}" has an invalid prefix length (0 to ${max})`;
    }
    return { kind: "network", address: address.toString(), prefix };
  }
  if (/[\s/?#@:\\%[\]]/u.test(text)) {
    return `allow list entry "${entry}" is not a host name, an IP address or a network`;
  }
  let hostname: string;
  try {
    // The URL parser gives the name in the form endpoints will have (lower case, punycode).
    hostname = new URL(`http://${text}/`).hostname;
  } catch {
    return `allow list entry "${entry}" is not a valid host name`;
  }
  if (parseIp(hostname)) {
    return `allow list entry "${entry}" reads as the IP address ${hostname}; write that instead`;
  }
  const host = normalizeHost(hostname);
  // No wildcards: an entry allows exactly one name.
  if (!HOST_NAME.test(host)) return `allow list entry "${entry}" is not a valid host name`;
  return { kind: "host", host };
}

/**
 * Parses the operator's allow list: comma-separated host names (`localhost`, `sim.test`),
 * addresses (`127.0.0.1`, `::1`, `[::1]`) and networks (`127.0.0.0/8`, `fd00::/8`). Names are
 * matched exactly, case-insensitively and without trailing dot; a subdomain is not included.
 */
export function parseAllowList(spec: string): AllowListParse {
  const allow: AllowEntry[] = [];
  for (const part of spec.split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    const parsed = parseAllowEntry(entry);
    if (typeof parsed === "string") return { ok: false, error: parsed };
    allow.push(parsed);
  }
  return { ok: true, allow };
}

/**
 * Judges a push endpoint URL without I/O: https only (http for allowed hosts), no user info, and
 * a host that is neither a non-public IP literal nor an internal name, unless it is allowed.
 * Odd IPv4 spellings (`2130706433`, `0x7f.1`, `127.1`) are canonicalized by the URL parser first,
 * so they are judged as the address they mean. Never throws.
 */
export function checkEndpoint(raw: string, allow: AllowList): EndpointCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: "endpoint is not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, error: `endpoint must be an https URL, not ${url.protocol}` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, error: "endpoint must not contain a user name or password" };
  }
  const host = normalizeHost(url.hostname);
  if (host === "") return { ok: false, error: "endpoint has no host" };
  const allowed = hostAllowed(host, allow);
  if (url.protocol === "http:" && !allowed) {
    return {
      ok: false,
      error: `endpoint must use https; plain http is only for hosts on the allow list (${host})`,
    };
  }
  if (!allowed) {
    const problem = hostProblem(host);
    if (problem) return { ok: false, error: `endpoint host ${problem}` };
  }
  url.hash = "";
  return { ok: true, url: url.href, host, literalIp: parseIp(host) !== null };
}

function forbiddenAddress(
  host: string,
  addresses: readonly string[],
  allow: AllowList,
): { address: string; message: string } | null {
  if (hostAllowed(host, allow)) return null;
  for (const text of addresses) {
    const address = parseIp(text);
    const verdict: Verdict = address ? judge(address) : { range: "invalid" };
    if (verdict.range === "public" || (address && addressAllowed(address, allow))) continue;
    return { address: text, message: `host ${host} resolves to ${describe(text, verdict, true)}` };
  }
  return null;
}

/**
 * Judges what DNS returned for `host`: a message when one address is not public and neither the
 * host nor that address is allowed, else null. One bad address is enough, since the connection
 * may use any of them.
 */
export function resolvedAddressError(
  host: string,
  addresses: readonly string[],
  allow: AllowList,
): string | null {
  return forbiddenAddress(host, addresses, allow)?.message ?? null;
}

/**
 * `checkEndpoint`, then for a host name the addresses it resolves to now. A failed resolution
 * (unknown name, timeout, no network) ACCEPTS the endpoint: intake must not depend on this
 * machine's DNS, a subscription's name may appear later, and the connection-time guard
 * (`guardedLookup`) judges the addresses actually used on every send anyway.
 */
export async function checkEndpointResolved(
  raw: string,
  allow: AllowList,
  resolve: Resolve,
): Promise<EndpointCheck> {
  const checked = checkEndpoint(raw, allow);
  if (!checked.ok || checked.literalIp || hostAllowed(checked.host, allow)) return checked;
  let addresses: string[];
  try {
    addresses = await resolve(checked.host);
  } catch {
    return checked;
  }
  const error = resolvedAddressError(checked.host, addresses, allow);
  return error ? { ok: false, error: `endpoint ${error}` } : checked;
}

export interface CachedResolverOptions {
  /** How long an answer (or a failure) is reused; 60 s by default. */
  ttlMs?: number;
  /** A lookup still pending after this long rejects; 2 s by default. */
  timeoutMs?: number;
  /** Hosts kept at most; the oldest entry goes first. 10,000 by default. */
  maxEntries?: number;
  /** The real resolver; `dns.promises.lookup(host, { all: true })` by default. */
  lookup?: Resolve;
  /** Clock for expiry, in milliseconds. */
  now?: () => number;
}

const lookupAll: Resolve = async (host) =>
  (await dnsLookupPromise(host, { all: true })).map((a) => a.address);

function withTimeout<T>(work: () => Promise<T>, ms: number, host: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`lookup of ${host} timed out after ${ms} ms`), {
        code: "ETIMEOUT",
      }));
    }, ms);
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * A `Resolve` for intake checks: answers and failures are cached per host for `ttlMs`, so a burst
 * of subscriptions to one push service costs one lookup and a dead name does not cost a timeout
 * each time; concurrent calls share the pending lookup.
 */
export function createCachedResolver(options: CachedResolverOptions = {}): Resolve {
  const {
    ttlMs = 60_000,
    timeoutMs = 2_000,
    maxEntries = 10_000,
    lookup = lookupAll,
    now = Date.now,
  } = options;
  const cache = new Map<string, { expiresAt: number; result: Promise<string[]> }>();
  return (host) => {
    const key = normalizeHost(host);
    const time = now();
    let entry = cache.get(key);
    if (!entry || entry.expiresAt <= time) {
      cache.delete(key);
      const result = withTimeout(() => lookup(key), timeoutMs, key);
      // The cache holds the promise too; its rejection is the caller's to handle, not unhandled.
      result.catch(() => {});
      entry = { expiresAt: time + ttlMs, result };
      cache.set(key, entry);
      // Maps iterate in insertion order, so the first key is the oldest entry.
      for (const oldest of cache.keys()) {
        if (cache.size <= maxEntries) break;
        cache.delete(oldest);
      }
    }
    // A copy, so that a caller editing its answer does not edit the cache.
    return entry.result.then((addresses) => [...addresses]);
  };
}

/** The `code` of the error `guardedLookup` reports for a forbidden address. */
export const FORBIDDEN_ADDRESS = "ESENDGATE_FORBIDDEN_ADDRESS";

/** A connection refused by the policy; reaches the caller as the request's error. */
export class ForbiddenAddressError extends Error {
  readonly code = FORBIDDEN_ADDRESS;
  readonly host: string;
  readonly address: string;

  constructor(host: string, address: string, message: string) {
    super(message);
    this.name = "ForbiddenAddressError";
    this.host = host;
    this.address = address;
  }
}

/**
 * A `lookup` for `http.Agent`, `https.Agent`, `net.connect` or `tls.connect` that refuses to hand
 * the socket a non-public address, so that what is judged is what is connected to (no window for
 * DNS rebinding between check and use). Options, `all` included, go to the real lookup as given.
 * Node does not call `lookup` for a literal IP host: check those with `connectTargetError`.
 */
export function guardedLookup(
  allow: AllowList,
  lookup: LookupFunction = dnsLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const addresses = typeof address === "string" ? [address] : address.map((a) => a.address);
      const forbidden = forbiddenAddress(hostname, addresses, allow);
      if (!forbidden) return callback(null, address, family);
      callback(
        new ForbiddenAddressError(hostname, forbidden.address, `refused: ${forbidden.message}`),
        options.all ? [] : "",
      );
    });
  };
}

/**
 * What to check before connecting to `host` when the socket will not look it up: a message if
 * it is a non-public IP literal (or an internal name) that is not allowed, else null. Names are
 * otherwise left to `guardedLookup`, which sees their addresses.
 */
export function connectTargetError(host: string, allow: AllowList): string | null {
  const name = normalizeHost(host);
  if (hostAllowed(name, allow)) return null;
  const problem = hostProblem(name);
  return problem ? `refused: ${problem}` : null;
}
