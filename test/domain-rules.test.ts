import { beforeEach, expect, it } from "vitest";
import { resolveDomainRule } from "@sendgate/core";
import { domainRules } from "@sendgate/db";
import { loadDomainRules } from "../apps/gateway/src/services/domain-rules.ts";
import { describeBackends } from "./support/harness.ts";

interface DomainRule {
  id: number;
  domain: string;
  rate?: { count: number; periodSeconds: number } | null;
  suspension?: {
    minMessages: number;
    errorRate: number;
    durationSeconds: number;
    windowSeconds: number;
  } | null;
  dkim?: { domainName: string; keySelector: string } | null;
  relay?: { host: string; port: number } | null;
  createdAt: string;
  updatedAt: string;
}

const read = <T>(res: Response) => res.json() as Promise<T>;

async function failingPaths(res: Response): Promise<string[]> {
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return ((await read<{ errors?: { path: string }[] }>(res)).errors ?? []).map((e) => e.path)
    .sort();
}

const full = {
  rate: { count: 1000, periodSeconds: 3600 },
  suspension: { minMessages: 200, errorRate: 0.9, durationSeconds: 7200, windowSeconds: 1800 },
  dkim: { domainName: "news.example.net", keySelector: "s2026" },
  relay: { host: "relay.example.net", port: 2525 },
};

describeBackends("domain rules", (s) => {
  beforeEach(async () => {
    await s().database.db.delete(domainRules);
  });

  it("answers 403 to an instance key on every route", async () => {
    const { call } = s();
    const key = await s().key("acme");
    const calls: [string, string, unknown?][] = [
      ["GET", "/v1/domain-rules"],
      ["POST", "/v1/domain-rules", { domain: "example.com" }],
      ["GET", "/v1/domain-rules/1"],
      ["PUT", "/v1/domain-rules/1", { domain: "example.com" }],
      ["DELETE", "/v1/domain-rules/1"],
    ];
    for (const [method, path, json] of calls) {
      const res = await call(method, path, { key, json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("creates, reads, lists, replaces and deletes a rule", async () => {
    const { call } = s();
    const created = await call("POST", "/v1/domain-rules", {
      json: { domain: " Example.COM ", ...full },
    });
    expect(created.status).toBe(201);
    const rule = await read<DomainRule>(created);
    expect(rule).toEqual({
      id: rule.id,
      domain: "example.com",
      ...full,
      createdAt: rule.createdAt,
      updatedAt: rule.updatedAt,
    });
    expect(Date.parse(rule.createdAt)).not.toBeNaN();

    // Left out: inherited (no key in the answer); null: explicitly none.
    const general = await read<DomainRule>(
      await call("POST", "/v1/domain-rules", {
        json: { domain: "*", suspension: null, relay: null },
      }),
    );
    expect(general).toEqual({
      id: general.id,
      domain: "*",
      suspension: null,
      relay: null,
      createdAt: general.createdAt,
      updatedAt: general.updatedAt,
    });
    const sub = await read<DomainRule>(
      await call("POST", "/v1/domain-rules", {
        json: { domain: "*.example.com", rate: null, dkim: null },
      }),
    );
    expect(sub).toMatchObject({ domain: "*.example.com", rate: null, dkim: null });
    expect(sub).not.toHaveProperty("suspension");

    expect(await read<DomainRule>(await call("GET", `/v1/domain-rules/${rule.id}`))).toEqual(rule);
    const list = await read<{ items: DomainRule[] }>(await call("GET", "/v1/domain-rules"));
    expect(list.items.map((r) => r.domain)).toEqual(["*", "*.example.com", "example.com"]);

    // PUT replaces the rule whole: what is left out goes back to inherited.
    const replaced = await call("PUT", `/v1/domain-rules/${rule.id}`, {
      json: { domain: "example.com", rate: { count: 10, periodSeconds: 60 }, suspension: null },
    });
    expect(replaced.status).toBe(200);
    const now = await read<DomainRule>(replaced);
    expect(now).toEqual({
      id: rule.id,
      domain: "example.com",
      rate: { count: 10, periodSeconds: 60 },
      suspension: null,
      createdAt: rule.createdAt,
      updatedAt: now.updatedAt,
    });

    expect((await call("DELETE", `/v1/domain-rules/${rule.id}`)).status).toBe(204);
    expect((await call("GET", `/v1/domain-rules/${rule.id}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/domain-rules/${rule.id}`)).status).toBe(404);
    expect(
      (await call("PUT", `/v1/domain-rules/${rule.id}`, { json: { domain: "example.com" } }))
        .status,
    ).toBe(404);
    expect((await call("GET", "/v1/domain-rules/example.com")).status).toBe(404);
  });

  it("refuses a second rule for a domain", async () => {
    const { call } = s();
    expect((await call("POST", "/v1/domain-rules", { json: { domain: "example.com" } })).status)
      .toBe(201);
    const other = await read<DomainRule>(
      await call("POST", "/v1/domain-rules", { json: { domain: "example.org" } }),
    );
    const again = await call("POST", "/v1/domain-rules", {
      json: { domain: "EXAMPLE.com", ...full },
    });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toBe("application/problem+json");
    expect(
      (await call("PUT", `/v1/domain-rules/${other.id}`, { json: { domain: "example.com" } }))
        .status,
    ).toBe(409);
    expect((await read<{ items: DomainRule[] }>(await call("GET", "/v1/domain-rules"))).items)
      .toHaveLength(2);
  });

  it("names every invalid field", async () => {
    const { call } = s();
    const post = (json: unknown) => call("POST", "/v1/domain-rules", { json });
    for (
      const domain of [
        "exa mple.com",
        "*.",
        "**",
        "example..com",
        "-example.com",
        "example.com.*",
        "",
      ]
    ) {
      expect(await failingPaths(await post({ domain })), domain).toEqual(["domain"]);
    }
    expect(
      await failingPaths(
        await post({
          domain: "example.com",
          rate: { count: 0, periodSeconds: 60 },
          suspension: { ...full.suspension, errorRate: 1.5 },
          dkim: { domainName: "example.com", keySelector: "bad selector" },
          relay: { host: "relay.example.com", port: 70_000 },
        }),
      ),
    ).toEqual(["dkim.keySelector", "rate.count", "relay.port", "suspension.errorRate"]);
    expect(
      await failingPaths(await post({ domain: "example.com", rate: { count: 1 }, colour: "red" })),
    ).toEqual(["colour", "rate.periodSeconds"]);
    expect(await failingPaths(await post({}))).toEqual(["domain"]);
    expect((await read<{ items: DomainRule[] }>(await call("GET", "/v1/domain-rules"))).items)
      .toEqual([]);
  });

  it("loads the rules as the core's DomainRule, most specific first, inherited from *", async () => {
    const { call, database } = s();
    const post = async (json: unknown) =>
      expect((await call("POST", "/v1/domain-rules", { json })).status).toBe(201);
    await post({ domain: "*", rate: { count: 100, periodSeconds: 60 }, suspension: null });
    await post({ domain: "example.com", rate: null, suspension: full.suspension });
    await post({ domain: "*.example.com", rate: { count: 5, periodSeconds: 1 } });
    await post({ domain: "plain.net", dkim: full.dkim });

    const rules = await loadDomainRules(database);
    expect(rules).toEqual([
      { domain: "*", rate: { count: 100, periodMs: 60_000 }, suspension: null },
      { domain: "*.example.com", rate: { count: 5, periodMs: 1000 } },
      {
        domain: "example.com",
        rate: null,
        suspension: {
          minMessages: 200,
          errorRate: 0.9,
          durationMs: 7_200_000,
          windowMs: 1_800_000,
        },
      },
      { domain: "plain.net" },
    ]);
    expect(resolveDomainRule(rules, "example.com")).toMatchObject({
      rate: null,
      suspension: { minMessages: 200, durationMs: 7_200_000 },
    });
    expect(resolveDomainRule(rules, "mx1.example.com")).toMatchObject({
      rate: { count: 5, periodMs: 1000 },
      suspension: null,
    });
    expect(resolveDomainRule(rules, "plain.net")).toMatchObject({
      rate: { count: 100, periodMs: 60_000 },
      suspension: null,
      matched: ["plain.net", "*"],
    });
  });
});
