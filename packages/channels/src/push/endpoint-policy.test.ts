import type { LookupAddress, LookupOptions } from "node:dns";
import { Agent, createServer, get, type Server } from "node:http";
import { type AddressInfo, BlockList, isIPv6, type LookupFunction } from "node:net";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type AllowList,
  checkEndpoint,
  checkEndpointResolved,
  classifyAddress,
  connectTargetError,
  createCachedResolver,
  FORBIDDEN_ADDRESS,
  ForbiddenAddressError,
  guardedLookup,
  parseAllowList,
  resolvedAddressError,
} from "./endpoint-policy.ts";

function allowed(spec: string): AllowList {
  const parsed = parseAllowList(spec);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.allow;
}

const bracket = (ip: string) => (ip.includes(":") ? `[${ip}]` : ip);

// One address per range and each range's edges, so that an off-by-one prefix shows.
const IPV4: [string, string][] = [
  ["0.0.0.0", "unspecified"],
  ["0.255.255.255", "unspecified"],
  ["1.0.0.0", "public"],
  ["8.8.8.8", "public"],
  ["9.255.255.255", "public"],
  ["10.0.0.0", "private"],
  ["10.255.255.255", "private"],
  ["11.0.0.0", "public"],
  ["100.63.255.255", "public"],
  ["100.64.0.0", "carrierGradeNat"],
  ["100.100.100.200", "carrierGradeNat"],
  ["100.127.255.255", "carrierGradeNat"],
  ["100.128.0.0", "public"],
  ["126.255.255.255", "public"],
  ["127.0.0.0", "loopback"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.255", "loopback"],
  ["128.0.0.0", "public"],
  ["169.253.255.255", "public"],
  ["169.254.0.0", "linkLocal"],
  ["169.254.169.254", "linkLocal"],
  ["169.254.255.255", "linkLocal"],
  ["169.255.0.0", "public"],
  ["172.15.255.255", "public"],
  ["172.16.0.0", "private"],
  ["172.31.255.255", "private"],
  ["172.32.0.0", "public"],
  ["192.0.0.0", "ietfProtocol"],
  ["192.0.0.8", "ietfProtocol"],
  ["192.0.1.255", "public"],
  ["192.0.2.1", "documentation"],
  ["192.0.3.0", "public"],
  ["192.167.255.255", "public"],
  ["192.168.0.0", "private"],
  ["192.168.255.255", "private"],
  ["192.169.0.0", "public"],
  ["198.17.255.255", "public"],
  ["198.18.0.0", "benchmarking"],
  ["198.19.255.255", "benchmarking"],
  ["198.20.0.0", "public"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["223.255.255.255", "public"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.255", "multicast"],
  ["240.0.0.0", "reserved"],
  ["255.255.255.254", "reserved"],
  ["255.255.255.255", "broadcast"],
];

const IPV6: [string, string][] = [
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["fe80::1", "linkLocal"],
  ["febf:ffff::1", "linkLocal"],
  ["fec0::1", "siteLocal"],
  ["feff::1", "siteLocal"],
  ["fc00::1", "uniqueLocal"],
  ["fd00:ec2::254", "uniqueLocal"],
  ["fdff:ffff::1", "uniqueLocal"],
  ["ff02::1", "multicast"],
  ["ff0e::1", "multicast"],
  ["2001:db8::1", "documentation"],
  ["2001:db8:ffff::1", "documentation"],
  ["3fff::1", "documentation"],
  ["2001:2::1", "benchmarking"],
  ["2001:20::1", "ietfProtocol"],
  ["100::1", "reserved"],
  ["4000::1", "reserved"],
  ["2606:4700:4700::1111", "public"],
  ["2a00:1450:4001:80b::200e", "public"],
  ["2001:4860:4860::8888", "public"],
  // IPv4-mapped, both spellings: the socket connects to the IPv4 address.
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:169.254.169.254", "linkLocal"],
  ["::ffff:100.100.100.200", "carrierGradeNat"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["::ffff:8.8.8.8", "public"],
  // IPv4-translated (RFC 6145).
  ["::ffff:0:7f00:1", "loopback"],
  ["::ffff:0:808:808", "public"],
  // IPv4-compatible (deprecated, still parsed).
  ["::127.0.0.1", "loopback"],
  ["::7f00:1", "loopback"],
  ["::192.168.1.1", "private"],
  ["::8.8.8.8", "public"],
  // NAT64: the translator connects to the embedded address from inside.
  ["64:ff9b::127.0.0.1", "loopback"],
  ["64:ff9b::a00:1", "private"],
  ["64:ff9b::169.254.169.254", "linkLocal"],
  ["64:ff9b::8.8.8.8", "public"],
  ["64:ff9b:1::1", "reserved"],
  // 6to4: bits 16–47.
  ["2002:7f00:1::1", "loopback"],
  ["2002:a9fe:a9fe::1", "linkLocal"],
  ["2002:c0a8:101::1", "private"],
  ["2002:808:808::1", "public"],
  // Teredo: server 65.54.227.120 in bits 32–63, client inverted in the last 32 bits.
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation"], // client 192.0.2.45
  ["2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"], // client 127.0.0.1
  ["2001:0:7f00:1:8000:63bf:f7f7:f7f7", "loopback"], // server 127.0.0.1
  ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", "public"], // client 8.8.8.8
];

describe("classifyAddress", () => {
  it.each([...IPV4, ...IPV6])("%s is %s", (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it("accepts brackets, upper case and zone ids", () => {
    expect(classifyAddress("[::1]")).toBe("loopback");
    expect(classifyAddress("::FFFF:7F00:1")).toBe("loopback");
    expect(classifyAddress("fe80::1%eth0")).toBe("linkLocal");
  });

  it("fails closed on what is not an address", () => {
    for (const text of ["", "example.com", "1.2.3.4.5", "::g", "[]", "999.0.0.1"]) {
      expect(classifyAddress(text), text).toBe("invalid");
    }
  });
});

describe("parseAllowList", () => {
  it("reads hosts, addresses and networks, in both families", () => {
    const parsed = parseAllowList(
      " 127.0.0.1, 127.0.0.0/8,::1,[::1],fd00::/8, [fd00::]/8, localhost,Sim.Test. ",
    );
    expect(parsed).toEqual({
      ok: true,
      allow: [
        { kind: "network", address: "127.0.0.1", prefix: 32 },
        { kind: "network", address: "127.0.0.0", prefix: 8 },
        { kind: "network", address: "::1", prefix: 128 },
        { kind: "network", address: "::1", prefix: 128 },
        { kind: "network", address: "fd00::", prefix: 8 },
        { kind: "network", address: "fd00::", prefix: 8 },
        { kind: "host", host: "localhost" },
        { kind: "host", host: "sim.test" },
      ],
    });
  });

  it("reads an empty setting, or stray commas, as nothing allowed", () => {
    expect(parseAllowList("")).toEqual({ ok: true, allow: [] });
    expect(parseAllowList(" , ,")).toEqual({ ok: true, allow: [] });
  });

  it("names the bad entry", () => {
    const cases: [string, RegExp][] = [
      ["localhost:8092", /"localhost:8092" has a port/u],
      ["127.0.0.1/33", /"127.0.0.1\/33" has an invalid prefix length/u],
      ["fd00::/129", /"fd00::\/129" has an invalid prefix length/u],
      ["10.0.0.0/", /"10.0.0.0\/" has an invalid prefix length/u],
      ["::1/x", /"::1\/x" has an invalid prefix length/u],
      ["[127.0.0.1]", /"\[127.0.0.1\]" is not a valid IP address/u],
      ["300.0.0.1", /"300.0.0.1" is not a valid IP address/u],
      ["fe80::1%eth0", /"fe80::1%eth0" is not a valid IP address/u],
      ["10.1", /"10.1" reads as the IP address 10.0.0.1/u],
      ["0x7f.1", /"0x7f.1" reads as the IP address 127.0.0.1/u],
      ["*.example.com", /"\*.example.com" is not a valid host name/u],
      ["http://sim.test", /"http:\/\/sim.test"/u],
      ["sim test", /"sim test" is not a host name/u],
    ];
    for (const [spec, error] of cases) {
      const parsed = parseAllowList(`localhost, ${spec}`);
      expect(parsed.ok, spec).toBe(false);
      if (!parsed.ok) expect(parsed.error, spec).toMatch(error);
    }
  });
});

describe("checkEndpoint", () => {
  it("accepts a public https endpoint, normalized and without fragment", () => {
    expect(checkEndpoint("HTTPS://FCM.googleapis.com:443/fcm/send/../send/abc?x=1#frag", []))
      .toEqual({
        ok: true,
        url: "https://fcm.googleapis.com/fcm/send/abc?x=1",
        host: "fcm.googleapis.com",
        literalIp: false,
      });
  });

  it("accepts public IP literals, on any port", () => {
    expect(checkEndpoint("https://8.8.8.8:8443/p", [])).toEqual({
      ok: true,
      url: "https://8.8.8.8:8443/p",
      host: "8.8.8.8",
      literalIp: true,
    });
    expect(checkEndpoint("https://[2606:4700:4700::1111]/p", [])).toMatchObject({
      ok: true,
      host: "2606:4700:4700::1111",
      literalIp: true,
    });
    expect(checkEndpoint("https://[::ffff:8.8.8.8]/", [])).toMatchObject({
      ok: true,
      host: "::ffff:808:808",
    });
  });

  it("refuses what is not a URL", () => {
    for (
      const raw of ["", "push.example.com/x", "https://", "https://exa mple.com/", "https://[::1/"]
    ) {
      expect(checkEndpoint(raw, []), raw).toEqual({
        ok: false,
        error: "endpoint is not a valid URL",
      });
    }
  });

  it("refuses schemes other than https", () => {
    for (const raw of ["ftp://push.example.com/", "ws://push.example.com/", "file:///etc/passwd"]) {
      const check = checkEndpoint(raw, []);
      expect(check.ok, raw).toBe(false);
      if (!check.ok) expect(check.error).toMatch(/must be an https URL/u);
    }
  });

  it("refuses plain http unless the host is allowed", () => {
    const check = checkEndpoint("http://push.example.com/x", []);
    expect(check).toEqual({
      ok: false,
      error: "endpoint must use https; plain http is only for hosts on the allow list " +
        "(push.example.com)",
    });
    expect(checkEndpoint("http://push.example.com/x", allowed("push.example.com")).ok).toBe(true);
  });

  it("refuses user info", () => {
    for (
      const raw of [
        "https://user:pass@push.example.com/",
        "https://user@push.example.com/",
        "https://:pass@push.example.com/",
      ]
    ) {
      expect(checkEndpoint(raw, []), raw).toEqual({
        ok: false,
        error: "endpoint must not contain a user name or password",
      });
    }
  });

  it.each([...IPV4, ...IPV6].filter(([, range]) => range !== "public"))(
    "refuses the literal %s (%s)",
    (ip) => {
      const check = checkEndpoint(`https://${bracket(ip)}:443/push`, []);
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.error).toMatch(/^endpoint host \S+ (is|embeds IPv4)/u);
    },
  );

  it("says which range and which embedded address forbid a literal", () => {
    expect(checkEndpoint("https://169.254.169.254/latest/meta-data/", [])).toEqual({
      ok: false,
      error: "endpoint host 169.254.169.254 is a link-local address",
    });
    expect(checkEndpoint("https://[::ffff:127.0.0.1]/", [])).toEqual({
      ok: false,
      error: "endpoint host ::ffff:7f00:1 embeds IPv4 127.0.0.1, a loopback address",
    });
  });

  it("judges odd IPv4 spellings as the address the URL parser makes of them", () => {
    for (
      const host of [
        "2130706433",
        "0x7f000001",
        "017700000001",
        "0x7f.1",
        "127.1",
        "127.0.1",
        "0177.0.0.1",
        "0x7F.0.0.1",
        "127.0.0.1.",
        "%31%32%37.0.0.1",
      ]
    ) {
      expect(checkEndpoint(`https://${host}/`, []), host).toEqual({
        ok: false,
        error: "endpoint host 127.0.0.1 is a loopback address",
      });
    }
    expect(checkEndpoint("https://0xa9.0xfe.0xa9.0xfe/", []), "hex metadata").toMatchObject({
      ok: false,
      error: "endpoint host 169.254.169.254 is a link-local address",
    });
    expect(checkEndpoint("https://134744072/", [])).toMatchObject({ ok: true, host: "8.8.8.8" });
  });

  it("judges odd IPv6 spellings by their canonical form", () => {
    for (
      const host of [
        "[0:0:0:0:0:0:0:1]",
        "[0000::1]",
        "[::FFFF:127.0.0.1]",
        "[0:0:0:0:0:ffff:7f00:1]",
      ]
    ) {
      const check = checkEndpoint(`https://${host}/`, []);
      expect(check.ok, host).toBe(false);
      if (!check.ok) expect(check.error, host).toMatch(/loopback/u);
    }
  });

  it("refuses internal names", () => {
    const cases: [string, string][] = [
      ["localhost", "an internal name (.localhost)"],
      ["LOCALHOST.", "an internal name (.localhost)"],
      ["localhost%2e", "an internal name (.localhost)"],
      ["app.localhost", "an internal name (.localhost)"],
      ["printer.local", "an internal name (.local)"],
      ["metadata.google.internal", "an internal name (.internal)"],
      ["metadata。google。internal", "an internal name (.internal)"],
      ["router.home.arpa", "an internal name (.home.arpa)"],
      ["home.arpa", "an internal name (.home.arpa)"],
      ["box.localdomain", "an internal name (.localdomain)"],
      ["metadata", "a single-label name"],
      ["intranet", "a single-label name"],
      ["intranet.", "a single-label name"],
    ];
    for (const [host, why] of cases) {
      const check = checkEndpoint(`https://${host}/push`, []);
      expect(check.ok, host).toBe(false);
      if (!check.ok) expect(check.error, host).toMatch(`is ${why}`);
    }
  });

  it("accepts public names that merely contain an internal word", () => {
    for (
      const host of ["localhost.example.com", "internal.example.com", "mylocal.com", "local.io"]
    ) {
      expect(checkEndpoint(`https://${host}/`, []).ok, host).toBe(true);
    }
  });

  it("lets an allowed host name through, http included, whatever its case", () => {
    const allow = allowed("LocalHost, sim.test.");
    expect(checkEndpoint("http://localhost:8092/push/abc", allow)).toEqual({
      ok: true,
      url: "http://localhost:8092/push/abc",
      host: "localhost",
      literalIp: false,
    });
    expect(checkEndpoint("http://LOCALHOST.:8092/", allow).ok).toBe(true);
    expect(checkEndpoint("http://Sim.Test/push", allow).ok).toBe(true);
    // Exactly the names listed, not their subdomains.
    expect(checkEndpoint("http://app.localhost/", allow).ok).toBe(false);
    expect(checkEndpoint("http://x.sim.test/", allow).ok).toBe(false);
  });

  it("lets an allowed address through, however it is spelled", () => {
    const allow = allowed("127.0.0.1");
    expect(checkEndpoint("http://127.0.0.1:8092/push/abc", allow)).toEqual({
      ok: true,
      url: "http://127.0.0.1:8092/push/abc",
      host: "127.0.0.1",
      literalIp: true,
    });
    expect(checkEndpoint("http://2130706433:8092/", allow).ok).toBe(true);
    expect(checkEndpoint("http://[::ffff:127.0.0.1]:8092/", allow).ok).toBe(true);
    expect(checkEndpoint("http://127.0.0.2:8092/", allow).ok).toBe(false);
    // Allowing the address is not allowing the name that usually points to it.
    expect(checkEndpoint("http://localhost:8092/", allow).ok).toBe(false);
  });

  it("lets addresses inside an allowed network through, and only those", () => {
    const allow = allowed("127.0.0.0/8, fd00::/8, ::1, 10.0.0.0/8");
    expect(checkEndpoint("http://127.8.9.10/", allow).ok).toBe(true);
    expect(checkEndpoint("https://[fd00:ec2::254]/", allow).ok).toBe(true);
    expect(checkEndpoint("http://[::1]:8092/", allow).ok).toBe(true);
    expect(checkEndpoint("https://10.1.2.3/", allow).ok).toBe(true);
    expect(checkEndpoint("https://[fc00::1]/", allow).ok).toBe(false);
    expect(checkEndpoint("https://192.168.1.1/", allow).ok).toBe(false);
    expect(checkEndpoint("https://169.254.169.254/", allow).ok).toBe(false);
    // NAT64 reaches 10.0.0.1 through a translator: a different path, not widened.
    expect(checkEndpoint("https://[64:ff9b::10.0.0.1]/", allow).ok).toBe(false);
  });
});

describe("resolvedAddressError", () => {
  it("passes public answers and an empty one", () => {
    expect(resolvedAddressError("push.example", ["8.8.8.8", "2606:4700::1111"], [])).toBeNull();
    expect(resolvedAddressError("push.example", [], [])).toBeNull();
  });

  it("refuses when any one answer is not public", () => {
    expect(resolvedAddressError("rebind.example", ["8.8.8.8", "10.0.0.1"], [])).toBe(
      "host rebind.example resolves to 10.0.0.1, a private address",
    );
    expect(resolvedAddressError("m.example", ["::ffff:169.254.169.254"], [])).toBe(
      "host m.example resolves to ::ffff:169.254.169.254, which embeds IPv4 169.254.169.254, " +
        "a link-local address",
    );
    expect(resolvedAddressError("x.example", ["not-an-ip"], [])).toMatch(/not a valid IP/u);
  });

  it("passes an allowed host or an allowed address", () => {
    expect(resolvedAddressError("sim.test", ["127.0.0.1"], allowed("sim.test"))).toBeNull();
    expect(resolvedAddressError("SIM.test.", ["127.0.0.1"], allowed("sim.test"))).toBeNull();
    expect(resolvedAddressError("a.example", ["10.2.3.4"], allowed("10.0.0.0/8"))).toBeNull();
    expect(resolvedAddressError("a.example", ["10.2.3.4", "192.168.0.1"], allowed("10.0.0.0/8")))
      .toMatch(/192\.168\.0\.1/u);
  });
});

describe("checkEndpointResolved", () => {
  const resolver = (answers: Record<string, string[]>) =>
    vi.fn((host: string) => {
      const found = answers[host];
      if (found) return Promise.resolve(found);
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: "ENOTFOUND",
      });
      return Promise.reject(error);
    });

  it("refuses a public-looking name that resolves to a private address", async () => {
    const resolve = resolver({ "rebind.example": ["10.0.0.1"] });
    expect(await checkEndpointResolved("https://rebind.example/push", [], resolve)).toEqual({
      ok: false,
      error: "endpoint host rebind.example resolves to 10.0.0.1, a private address",
    });
    expect(resolve).toHaveBeenCalledWith("rebind.example");
  });

  it("accepts a name that resolves to public addresses", async () => {
    const resolve = resolver({ "push.example": ["8.8.8.8"] });
    expect(await checkEndpointResolved("https://Push.Example./a#b", [], resolve)).toEqual({
      ok: true,
      url: "https://push.example./a",
      host: "push.example",
      literalIp: false,
    });
  });

  it("accepts the endpoint when resolution fails, leaving it to the connection-time guard", async () => {
    const resolve = resolver({});
    expect(await checkEndpointResolved("https://offline.example/p", [], resolve)).toMatchObject({
      ok: true,
      host: "offline.example",
    });
    expect(resolve).toHaveBeenCalledOnce();
  });

  it("does not resolve literals, allowed hosts, or endpoints already refused", async () => {
    const resolve = resolver({});
    expect((await checkEndpointResolved("https://8.8.8.8/", [], resolve)).ok).toBe(true);
    expect((await checkEndpointResolved("http://sim.test/", allowed("sim.test"), resolve)).ok)
      .toBe(true);
    expect((await checkEndpointResolved("https://10.0.0.1/", [], resolve)).ok).toBe(false);
    expect((await checkEndpointResolved("http://push.example/", [], resolve)).ok).toBe(false);
    expect(resolve).not.toHaveBeenCalled();
  });

  it("passes a name that resolves inside an allowed network", async () => {
    const resolve = resolver({ "push.corp.example": ["10.1.1.1"] });
    expect(
      (await checkEndpointResolved("https://push.corp.example/", allowed("10.0.0.0/8"), resolve))
        .ok,
    ).toBe(true);
  });
});

describe("createCachedResolver", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves a host once within the ttl, sharing a pending lookup", async () => {
    const lookup = vi.fn((_host: string) => Promise.resolve(["8.8.8.8"]));
    const resolve = createCachedResolver({ lookup });
    const [a, b] = await Promise.all([resolve("push.example"), resolve("push.example")]);
    expect(await resolve("PUSH.example.")).toEqual(["8.8.8.8"]);
    expect([a, b]).toEqual([["8.8.8.8"], ["8.8.8.8"]]);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith("push.example");
  });

  it("hands out copies, so a caller cannot edit the cache", async () => {
    const resolve = createCachedResolver({ lookup: () => Promise.resolve(["8.8.8.8"]) });
    (await resolve("push.example")).push("10.0.0.1");
    expect(await resolve("push.example")).toEqual(["8.8.8.8"]);
  });

  it("caches failures too", async () => {
    const lookup = vi.fn((_host: string): Promise<string[]> =>
      Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }))
    );
    const resolve = createCachedResolver({ lookup });
    await expect(resolve("gone.example")).rejects.toThrow("ENOTFOUND");
    await expect(resolve("gone.example")).rejects.toThrow("ENOTFOUND");
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it("resolves again once the ttl has passed", async () => {
    let now = 1_000;
    let answer = "8.8.8.8";
    const lookup = vi.fn((_host: string) => Promise.resolve([answer]));
    const resolve = createCachedResolver({ lookup, ttlMs: 60_000, now: () => now });
    expect(await resolve("push.example")).toEqual(["8.8.8.8"]);
    answer = "10.0.0.1";
    now += 59_999;
    expect(await resolve("push.example")).toEqual(["8.8.8.8"]);
    now += 1;
    expect(await resolve("push.example")).toEqual(["10.0.0.1"]);
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it("keeps at most 10,000 hosts by default, dropping the oldest", async () => {
    const lookup = vi.fn((_host: string) => Promise.resolve(["8.8.8.8"]));
    const resolve = createCachedResolver({ lookup });
    for (let i = 0; i <= 10_000; i++) await resolve(`h${i}.example`);
    expect(lookup).toHaveBeenCalledTimes(10_001);
    await resolve("h10000.example");
    await resolve("h1.example");
    expect(lookup).toHaveBeenCalledTimes(10_001);
    await resolve("h0.example");
    expect(lookup).toHaveBeenCalledTimes(10_002);
  });

  it("gives up on a lookup after timeoutMs", async () => {
    vi.useFakeTimers();
    const resolve = createCachedResolver({ lookup: () => new Promise<string[]>(() => {}) });
    let settled = false;
    const pending = resolve("slow.example");
    pending.catch(() => {}).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(pending).rejects.toThrow("lookup of slow.example timed out after 2000 ms");
    await expect(pending).rejects.toMatchObject({ code: "ETIMEOUT" });
  });

  it("turns a lookup that throws at once into a rejection", async () => {
    const resolve = createCachedResolver({
      lookup: () => {
        throw new Error("bad host");
      },
    });
    await expect(resolve("x.example")).rejects.toThrow("bad host");
  });

  it("uses the system resolver by default (localhost, from the hosts file)", async () => {
    const addresses = await createCachedResolver()("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(classifyAddress(address)).toBe("loopback");
  });
});

describe("guardedLookup", () => {
  type Answer = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[] };

  // A stand-in for dns.lookup answering from a table, honouring `all`.
  function fakeLookup(table: Record<string, string[]>): LookupFunction {
    return (hostname, options, callback) => {
      const found = table[hostname];
      if (!found) {
        const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: "ENOTFOUND",
        });
        return callback(error, options.all ? [] : "");
      }
      const answers = found.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }));
      if (options.all) return callback(null, answers);
      callback(null, answers[0]!.address, answers[0]!.family);
    };
  }

  function ask(lookup: LookupFunction, hostname: string, options: LookupOptions) {
    return new Promise<Answer>((resolve) =>
      lookup(hostname, options, (error, address) => resolve({ error, address }))
    );
  }

  const table = {
    "push.example": ["8.8.8.8", "2606:4700::1111"],
    "rebind.example": ["8.8.8.8", "10.0.0.1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "sim.test": ["127.0.0.1"],
  };

  it("passes public answers through as given, with or without all", async () => {
    const lookup = guardedLookup([], fakeLookup(table));
    expect(await ask(lookup, "push.example", {})).toEqual({ error: null, address: "8.8.8.8" });
    expect(await ask(lookup, "push.example", { all: true })).toEqual({
      error: null,
      address: [{ address: "8.8.8.8", family: 4 }, { address: "2606:4700::1111", family: 6 }],
    });
  });

  it("refuses when any answer is not public", async () => {
    const lookup = guardedLookup([], fakeLookup(table));
    const { error, address } = await ask(lookup, "rebind.example", { all: true });
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error).toMatchObject({
      code: FORBIDDEN_ADDRESS,
      host: "rebind.example",
      address: "10.0.0.1",
      message: "refused: host rebind.example resolves to 10.0.0.1, a private address",
    });
    expect(address).toEqual([]);
    expect((await ask(lookup, "mapped.example", {})).error?.code).toBe(FORBIDDEN_ADDRESS);
  });

  it("passes allowed hosts and addresses", async () => {
    expect((await ask(guardedLookup(allowed("sim.test"), fakeLookup(table)), "sim.test", {})).error)
      .toBeNull();
    const byNetwork = guardedLookup(allowed("127.0.0.0/8"), fakeLookup(table));
    expect((await ask(byNetwork, "mapped.example", {})).error).toBeNull();
  });

  it("passes lookup errors through untouched", async () => {
    const { error } = await ask(guardedLookup([], fakeLookup(table)), "gone.example", {});
    expect(error?.code).toBe("ENOTFOUND");
  });

  describe("in a real http.Agent, on loopback", () => {
    let server: Server;
    let port: number;
    let requests = 0;

    beforeAll(async () => {
      server = createServer((_req, res) => {
        requests++;
        res.end("pushed");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    function request(allow: AllowList, family?: 4) {
      const agent = new Agent({ lookup: guardedLookup(allow) });
      return new Promise<string>((resolve, reject) => {
        const req = get(`http://localhost:${port}/`, { agent, family }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => resolve(body));
          res.on("error", reject);
        });
        req.on("error", reject);
      }).finally(() => agent.destroy());
    }

    it("refuses to connect to localhost when nothing is allowed", async () => {
      const before = requests;
      const error = await request([]).then(() => null, (e: NodeJS.ErrnoException) => e);
      expect(error).toBeInstanceOf(ForbiddenAddressError);
      expect(error?.code).toBe(FORBIDDEN_ADDRESS);
      expect(error?.message).toMatch(
        /^refused: host localhost resolves to (127\.0\.0\.1|::1), a loopback address$/u,
      );
      expect(requests).toBe(before);
    });

    it("connects when localhost is allowed", async () => {
      expect(await request(allowed("localhost"))).toBe("pushed");
    });

    it("connects when its IPv4 loopback address is allowed", async () => {
      // family 4, so that a hosts file also listing ::1 does not make this depend on the order.
      expect(await request(allowed("127.0.0.1"), 4)).toBe("pushed");
    });
  });
});

describe("connectTargetError", () => {
  it("refuses non-public literals and internal names, spelled any way", () => {
    expect(connectTargetError("127.0.0.1", [])).toBe(
      "refused: 127.0.0.1 is a loopback address",
    );
    expect(connectTargetError("[fd00:ec2::254]", [])).toBe(
      "refused: fd00:ec2::254 is a unique local address",
    );
    expect(connectTargetError("127.1", [])).toMatch(/loopback/u);
    expect(connectTargetError("::ffff:7f00:1", [])).toMatch(/embeds IPv4 127\.0\.0\.1/u);
    expect(connectTargetError("metadata.google.internal", [])).toMatch(/internal name/u);
  });

  it("passes public targets and allowed ones", () => {
    expect(connectTargetError("8.8.8.8", [])).toBeNull();
    expect(connectTargetError("push.example.com", [])).toBeNull();
    expect(connectTargetError("127.0.0.1", allowed("127.0.0.0/8"))).toBeNull();
    expect(connectTargetError("[::1]", allowed("::1"))).toBeNull();
    expect(connectTargetError("localhost", allowed("localhost"))).toBeNull();
  });
});

describe("properties", () => {
  // An oracle independent of the module under test: Node's BlockList, loaded with the ranges the
  // policy promises to refuse, IPv4 ones also under each IPv6 prefix that embeds IPv4 at a fixed
  // place (mapped, compatible, NAT64, 6to4, Teredo server).
  const V4_FORBIDDEN: [string, number][] = [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4],
  ];
  const V6_FORBIDDEN: [string, number][] = [
    ["::", 128],
    ["::1", 128],
    ["fe80::", 10],
    ["fec0::", 10],
    ["fc00::", 7],
    ["ff00::", 8],
    ["2001:db8::", 32],
  ];
  const hex16 = (a: number, b: number) => ((a << 8) | b).toString(16);
  const forbidden = new BlockList();
  for (const [net, len] of V4_FORBIDDEN) {
    forbidden.addSubnet(net, len, "ipv4");
    const [a = 0, b = 0, c = 0, d = 0] = net.split(".").map(Number);
    forbidden.addSubnet(`::ffff:${net}`, 96 + len, "ipv6");
    forbidden.addSubnet(`::${net}`, 96 + len, "ipv6");
    forbidden.addSubnet(`64:ff9b::${net}`, 96 + len, "ipv6");
    forbidden.addSubnet(`2002:${hex16(a, b)}:${hex16(c, d)}::`, 16 + len, "ipv6");
    forbidden.addSubnet(`2001:0:${hex16(a, b)}:${hex16(c, d)}::`, 32 + len, "ipv6");
  }
  for (const [net, len] of V6_FORBIDDEN) forbidden.addSubnet(net, len, "ipv6");
  const isForbidden = (ip: string) => forbidden.check(ip, isIPv6(ip) ? "ipv6" : "ipv4");

  // Octets biased towards the first bytes of the special ranges, so that most runs hit one.
  const octets = fc.tuple(
    fc.oneof(
      fc.constantFrom(0, 10, 100, 127, 169, 172, 192, 198, 203, 224, 239, 240, 255),
      fc.nat(255),
    ),
    fc.oneof(
      fc.constantFrom(0, 2, 16, 18, 19, 31, 32, 51, 63, 64, 127, 128, 168, 254, 255),
      fc.nat(255),
    ),
    fc.oneof(fc.constantFrom(0, 2, 100, 113, 255), fc.nat(255)),
    fc.nat(255),
  );
  const ipv4Spellings = octets.chain(([a, b, c, d]) => {
    const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
    return fc.constantFrom(
      `${a}.${b}.${c}.${d}`,
      `${a}.${b}.${c}.${d}.`,
      String(n),
      `0x${n.toString(16)}`,
      `0${a.toString(8)}.0x${b.toString(16)}.${c}.0${d.toString(8)}`,
      `${a}.${(b << 16) + (c << 8) + d}`,
      `${a}.${b}.${(c << 8) + d}`,
      `[::ffff:${a}.${b}.${c}.${d}]`,
      `[::FFFF:${hex16(a, b)}:${hex16(c, d)}]`,
      `[::${a}.${b}.${c}.${d}]`,
      `[64:ff9b::${a}.${b}.${c}.${d}]`,
      `[2002:${hex16(a, b)}:${hex16(c, d)}::1]`,
      `[2001:0:${hex16(a, b)}:${hex16(c, d)}::1]`,
    );
  });
  const ipv6Hosts = fc.oneof(
    fc.ipV6().map((ip) => `[${ip}]`),
    fc.tuple(
      fc.constantFrom("fe80", "febf", "fec0", "fc00", "fd00", "ff02", "2001:db8", "2606"),
      fc.nat(0xffff),
    )
      .map(([prefix, tail]) => `[${prefix}::${tail.toString(16)}]`),
  );
  const hosts = fc.oneof(
    ipv4Spellings,
    ipv6Hosts,
    fc.domain(),
    fc.constantFrom("localhost", "metadata", "a.internal", "x.local"),
  );
  const urls = fc
    .tuple(
      fc.constantFrom("https://", "HTTPS://", "https:", "https:\\\\", " https://", "http://"),
      fc.oneof({ arbitrary: fc.constant(""), weight: 8 }, fc.constantFrom("user@", "u:p@")),
      hosts,
      fc.constantFrom("", ":443", ":8092", ":0"),
      fc.webPath(),
      fc.constantFrom("", "#x", "?a=1"),
    )
    .map((parts) => parts.join(""));

  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.webUrl(), urls),
        (raw) => {
          checkEndpoint(raw, []);
          checkEndpoint(raw, allowed("localhost, 127.0.0.0/8"));
          classifyAddress(raw);
          connectTargetError(raw, []);
          parseAllowList(raw);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("accepts an https URL only when its literal host is public", () => {
    fc.assert(
      fc.property(urls, (raw) => {
        const check = checkEndpoint(raw, []);
        if (!check.ok) return;
        expect(check.url.startsWith("https://")).toBe(true);
        if (check.literalIp) expect(isForbidden(check.host), check.host).toBe(false);
        else expect(check.host).toMatch(/\./u);
      }),
      { numRuns: 3_000 },
    );
  });

  it("refuses a dotted IPv4 literal exactly when it is in a forbidden range", () => {
    fc.assert(
      fc.property(octets, ([a, b, c, d]) => {
        const ip = `${a}.${b}.${c}.${d}`;
        const expected = !isForbidden(ip);
        expect(checkEndpoint(`https://${ip}/`, []).ok, ip).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });
});
