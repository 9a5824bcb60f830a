import { expect, it } from "vitest";
import { describeBackends } from "./support/harness.ts";

const email = {
  channel: "email",
  content: { from: "news@example.com", subject: "Hi", text: "Hello" },
};

describeBackends("api: auth, isolation, validation", (s) => {
  it("answers 401 without a key or with a wrong one, as problem+json", async () => {
    for (const key of [null, "sg_wrong"]) {
      const res = await s().call("GET", "/v1/deliveries", { key });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({
        status: 401,
        type: "urn:sendgate:problem:unauthorized",
      });
    }
  });

  it("keeps each instance to its own deliveries and messages (404 for another's)", async () => {
    const a = await s().key("tenant-a");
    const b = await s().key("tenant-b");
    const d = await (await s().call("POST", "/v1/deliveries", { key: a, json: email })).json();
    await s().call("POST", `/v1/deliveries/${d.id}/parts`, {
      key: a,
      json: { recipients: [{ externalId: "1", address: "a@example.com" }] },
    });
    const msg =
      (await (await s().call("GET", `/v1/deliveries/${d.id}/messages`, { key: a })).json())
        .items[0];
    for (
      const [method, path] of [
        ["GET", `/v1/deliveries/${d.id}`],
        ["GET", `/v1/deliveries/${d.id}/messages`],
        ["POST", `/v1/deliveries/${d.id}/start`],
        ["POST", `/v1/deliveries/${d.id}/cancel`],
        ["GET", `/v1/messages/${msg.id}`],
      ] as const
    ) {
      expect((await s().call(method, path, { key: b })).status, `${method} ${path}`).toBe(404);
    }
    expect(
      (await s().call("POST", `/v1/deliveries/${d.id}/parts`, {
        key: b,
        json: { recipients: [{ externalId: "x", address: "x@example.com" }] },
      })).status,
    ).toBe(404);
    const listB = await (await s().call("GET", "/v1/deliveries", { key: b })).json();
    expect(listB.items.map((x: { id: string }) => x.id)).not.toContain(d.id);
  });

  it("names every invalid field", async () => {
    const key = await s().key("acme");
    const res = await s().call("POST", "/v1/deliveries", {
      key,
      json: {
        channel: "email",
        content: { from: "x", subject: "", extra: 1 },
        validitySeconds: "soon",
        bogus: true,
      },
    });
    expect(res.status).toBe(400);
    const paths = (await res.json()).errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "bogus",
        "content.extra",
        "content.from",
        "content.subject",
        "validitySeconds",
      ]),
    );
  });

  it("refuses an unknown channel and malformed JSON", async () => {
    const key = await s().key("acme");
    const channel = await s().call("POST", "/v1/deliveries", {
      key,
      json: { channel: "fax", content: {} },
    });
    expect(channel.status).toBe(400);
    expect((await channel.json()).errors[0].path).toBe("channel");
    const malformed = await s().call("POST", "/v1/deliveries", {
      key,
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).type).toMatch(/malformed|validation/);
  });

  it("validates parts: wrong types, too many recipients, unknown fields", async () => {
    const key = await s().key("acme");
    const d = await (await s().call("POST", "/v1/deliveries", { key, json: email })).json();
    const res = await s().call("POST", `/v1/deliveries/${d.id}/parts`, {
      key,
      json: {
        recipients: [{ externalId: 5, address: "a@example.com" }, {
          externalId: "2",
          adress: "typo@example.com",
        }],
      },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors.map((e: { path: string }) => e.path)).toEqual([
      "recipients.0.externalId",
      "recipients.1.adress",
    ]);
    const many = {
      recipients: Array.from(
        { length: 10_001 },
        (_, i) => ({ externalId: `${i}`, address: `u${i}@example.com` }),
      ),
    };
    const tooMany = await s().call("POST", `/v1/deliveries/${d.id}/parts`, { key, json: many });
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).errors[0].path).toBe("recipients");
    expect((await (await s().call("GET", `/v1/deliveries/${d.id}`, { key })).json()).counts.total)
      .toBe(0);
  });

  it("answers 404 problem+json for unknown routes and ids", async () => {
    const key = await s().key("acme");
    expect((await s().call("GET", "/v1/nothing", { key })).status).toBe(404);
    expect((await s().call("GET", "/v1/deliveries/not-a-uuid", { key })).status).toBe(404);
    expect((await s().call("GET", "/v1/messages/999999999", { key })).status).toBe(404);
  });

  it("serves health, readiness, the OpenAPI document and the reference page", async () => {
    expect(await (await s().call("GET", "/health", { key: null })).json()).toMatchObject({
      status: "ok",
    });
    expect(await (await s().call("GET", "/ready", { key: null })).json()).toMatchObject({
      status: "ready",
    });
    const doc = await (await s().call("GET", "/openapi.json", { key: null })).json();
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap((
      [p, ops],
    ) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes).toEqual(expect.arrayContaining([
      "POST /v1/deliveries",
      "GET /v1/deliveries",
      "GET /v1/deliveries/{id}",
      "POST /v1/deliveries/{id}/parts",
      "POST /v1/deliveries/{id}/start",
      "POST /v1/deliveries/{id}/cancel",
      "GET /v1/deliveries/{id}/messages",
      "GET /v1/messages/{id}",
    ]));
    // Patterns are the regexes' sources, readable by any JSON Schema validator (no `/u` tail).
    const patterns = JSON.stringify(doc).match(/"pattern":"(?:[^"\\]|\\.)*"/gu) ?? [];
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) expect(p).not.toMatch(/\/[dgimsuyv]+"$/u);
    const page = await (await s().call("GET", "/docs", { key: null })).text();
    expect(page).toContain('id="post-v1-deliveries-id-parts"');
  });
});

describeBackends("api: limits", (s) => {
  it("answers 429 with Retry-After past the rate limit", async () => {
    const key = await s().key("busy");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await s().call("GET", "/v1/deliveries", { key })).status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    const limited = await s().call("GET", "/v1/deliveries", { key });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("answers 413 for a body over the limit and writes nothing", async () => {
    const key = await s().key("big");
    const res = await s().call("POST", "/v1/deliveries", {
      key,
      body: JSON.stringify({
        channel: "email",
        content: { from: "a@example.com", subject: "x", text: "y".repeat(5000) },
      }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect((await res.json()).type).toBe("urn:sendgate:problem:tooLarge");
  });
}, { rateLimit: { perSecond: 0.01, burst: 3 }, maxBodyBytes: 4096 });

describeBackends("api: SMS text", (s) => {
  it("tells how an SMS template is encoded and refuses one over 10 parts", async () => {
    const key = await s().key("acme");
    const sms = (text: string) =>
      s().call("POST", "/v1/deliveries", {
        key,
        json: { channel: "sms", content: { sender: "ACME", text } },
      });
    expect((await (await sms("Hello €")).json()).sms).toEqual({
      encoding: "gsm7",
      units: 8,
      segments: 1,
    });
    expect((await (await sms("Привет".repeat(20))).json()).sms).toEqual({
      encoding: "ucs2",
      units: 120,
      segments: 2,
    });
    const tooLong = await sms("ж".repeat(671));
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).errors).toEqual([{
      path: "content.text",
      message: "the text needs 11 UCS-2 parts; at most 10",
    }]);
  });
});
