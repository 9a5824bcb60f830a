import { expect, it } from "vitest";
import { describeBackends } from "./support/harness.ts";

const email = {
  channel: "email",
  content: { from: "news@example.com", subject: "Hi", text: "Hello" },
};
// A real P-256 public key and auth secret shape (65 and 16 bytes, base64url).
const p256dh =
  "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
const auth = "tBHItJI5svbpez7KI4CCXg";

describeBackends("parts", (s) => {
  async function newDelivery(key: string, body: unknown = email) {
    const res = await s().call("POST", "/v1/deliveries", { key, json: body });
    expect(res.status).toBe(201);
    return (await res.json()).id as string;
  }

  it("accepts NDJSON and reports invalid addresses per recipient, writing the rest", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    const body = [
      { externalId: "1", address: "a@example.com" },
      { externalId: "2", address: "not-an-address" },
      { externalId: "3", address: "b@example.com", fields: { first: "Bea" } },
    ].map((r) => JSON.stringify(r)).join("\n");
    const res = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      body,
      headers: { "content-type": "application/x-ndjson" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      received: 3,
      accepted: 2,
      ignored: 0,
      rejected: [{
        index: 1,
        externalId: "2",
        address: "not-an-address",
        error: "an email address needs local@domain",
      }],
    });
    const msgs = await (await s().call("GET", `/v1/deliveries/${id}/messages`, { key })).json();
    expect(msgs.items.map((m: { externalId: string }) => m.externalId)).toEqual(["1", "3"]);
    const one = await (await s().call("GET", `/v1/messages/${msgs.items[1].id}`, { key })).json();
    expect(one).toMatchObject({
      address: "b@example.com",
      status: "pending",
      fields: { first: "Bea" },
      events: [],
    });
  });

  it("names every bad line of an NDJSON part and writes nothing", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    const body = `{"externalId":"1","address":"a@example.com"}\nnot json\n{"externalId":2}\n`;
    const res = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      body,
      headers: { "content-type": "application/x-ndjson" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const problem = await res.json();
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([
      "line 2",
      "recipients.2.externalId",
    ]);
    const got = await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json();
    expect(got.counts.total).toBe(0);
  });

  it("checks SMS numbers and push subscriptions for their channel", async () => {
    const key = await s().key("acme");
    const sms = await newDelivery(key, { channel: "sms", content: { sender: "ACME", text: "Hi" } });
    const smsRes = await (await s().call("POST", `/v1/deliveries/${sms}/parts`, {
      key,
      json: {
        recipients: [{ externalId: "1", address: "+33 6 12 34 56 78" }, {
          externalId: "2",
          address: "0612345678",
        }, { externalId: "3", address: "0033612345678" }],
      },
    })).json();
    expect(smsRes).toMatchObject({
      accepted: 1,
      excluded: [{ reason: 10, count: 1 }],
      rejected: [{ externalId: "2" }],
    });
    const push = await newDelivery(key, { channel: "push", content: { title: "Hi" } });
    const pushRes = await (await s().call("POST", `/v1/deliveries/${push}/parts`, {
      key,
      json: {
        recipients: [
          {
            externalId: "1",
            // As a browser's PushSubscription.toJSON() gives it.
            address: {
              endpoint: "https://push.example/s/1",
              expirationTime: null,
              keys: { p256dh, auth },
            },
          },
          {
            externalId: "2",
            address: { endpoint: "https://push.example/s/2", keys: { p256dh: "short", auth } },
          },
          { externalId: "3", address: { endpoint: "nope", keys: { p256dh, auth } } },
        ],
      },
    })).json();
    expect(pushRes.accepted).toBe(1);
    expect(
      pushRes.rejected.map((r: { externalId: string; error: string }) => [r.externalId, r.error]),
    ).toEqual([
      ["2", "keys.p256dh must be a base64url P-256 public key (65 bytes)"],
      ["3", "endpoint is not a URL"],
    ]);
  });

  it("answers a retried call with the same Idempotency-Key with the first answer and writes nothing twice", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    const json = {
      recipients: Array.from(
        { length: 50 },
        (_, i) => ({ externalId: `${i}`, address: `u${i}@example.com` }),
      ),
    };
    const headers = { "idempotency-key": "part-1" };
    const first = await s().call("POST", `/v1/deliveries/${id}/parts`, { key, json, headers });
    const second = await s().call("POST", `/v1/deliveries/${id}/parts`, { key, json, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(await first.json());
    expect((await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json()).counts.total)
      .toBe(50);
    const other = await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: json.recipients.slice(1) },
      headers,
    });
    expect(other.status).toBe(422);
  });

  it("answers concurrent calls that share an Idempotency-Key once, on one delivery or two", async () => {
    const key = await s().key("acme");
    const a = await newDelivery(key);
    const b = await newDelivery(key);
    const json = { recipients: [{ externalId: "1", address: "same@example.com" }] };
    const headers = { "idempotency-key": "shared-key" };
    const same = await Promise.all(
      [1, 2, 3].map(() => s().call("POST", `/v1/deliveries/${a}/parts`, { key, json, headers })),
    );
    expect(same.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    const other = await s().call("POST", `/v1/deliveries/${b}/parts`, { key, json, headers });
    expect(other.status).toBe(422);
    const racing = await Promise.all([
      s().call("POST", `/v1/deliveries/${a}/parts`, {
        key,
        json,
        headers: { "idempotency-key": "race" },
      }),
      s().call("POST", `/v1/deliveries/${b}/parts`, {
        key,
        json,
        headers: { "idempotency-key": "race" },
      }),
    ]);
    // One wins; the other learns the key was used for another request, never a 500.
    expect(racing.map((r) => r.status).sort()).toEqual([201, 422]);
    const totals = await Promise.all(
      [a, b].map(async (d) =>
        (await (await s().call("GET", `/v1/deliveries/${d}`, { key })).json()).counts.total
      ),
    );
    expect(totals[0]! + totals[1]!).toBe(2);
  });

  it("finds duplicates across parts appended concurrently into one delivery", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    // Eight parts of 500, each overlapping the next by half: 2,250 distinct addresses.
    const parts = Array.from({ length: 8 }, (_, p) => ({
      recipients: Array.from(
        { length: 500 },
        (_, i) => ({ externalId: `${p}-${i}`, address: `u${p * 250 + i}@example.com` }),
      ),
    }));
    const answers = await Promise.all(
      parts.map((json) =>
        s().call("POST", `/v1/deliveries/${id}/parts`, { key, json }).then((r) => r.json())
      ),
    );
    const accepted = answers.reduce((n, a) => n + a.accepted, 0);
    expect(accepted).toBe(2_250);
    const counts = (await (await s().call("GET", `/v1/deliveries/${id}`, { key })).json()).counts;
    expect(counts).toEqual({
      total: 4_000,
      byStatus: { pending: 2_250, ignored: 1_750 },
      byReason: { 10: 1_750 },
    });
  });

  it("applies the target size limit and the control group across parts", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key, {
      ...email,
      maxTargetSize: 30,
      controlGroup: { externalIds: ["c1", "c2"] },
    });
    const part = (from: number) => ({
      recipients: Array.from(
        { length: 20 },
        (_, i) => ({
          externalId: from + i < 2 ? `c${from + i + 1}` : `${from + i}`,
          address: `u${from + i}@example.com`,
        }),
      ),
    });
    const a = await (await s().call("POST", `/v1/deliveries/${id}/parts`, { key, json: part(0) }))
      .json();
    const b = await (await s().call("POST", `/v1/deliveries/${id}/parts`, { key, json: part(20) }))
      .json();
    expect(a).toMatchObject({ accepted: 18, excluded: [{ reason: 127, count: 2 }] });
    expect(b).toMatchObject({
      accepted: 10,
      excluded: [{ reason: 17, label: "Target size limited", count: 10 }],
    });
  });

  it("refuses parts for cancelled deliveries (409), unknown deliveries (404), wrong media types (415)", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    const json = { recipients: [{ externalId: "1", address: "a@example.com" }] };
    await s().call("POST", `/v1/deliveries/${id}/cancel`, { key });
    const cancelled = await s().call("POST", `/v1/deliveries/${id}/parts`, { key, json });
    expect(cancelled.status).toBe(409);
    expect((await cancelled.json()).type).toBe("urn:sendgate:problem:conflict");
    expect(
      (await s().call("POST", `/v1/deliveries/00000000-0000-0000-0000-000000000000/parts`, {
        key,
        json,
      })).status,
    ).toBe(404);
    expect(
      (await s().call("POST", `/v1/deliveries/${id}/parts`, {
        key,
        body: "x",
        headers: { "content-type": "text/plain" },
      })).status,
    ).toBe(415);
  });

  it("cancels pending messages with an event each", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: {
        recipients: [{ externalId: "1", address: "a@example.com" }, {
          externalId: "2",
          address: "",
        }],
      },
    });
    const res = await (await s().call("POST", `/v1/deliveries/${id}/cancel`, { key })).json();
    expect(res.cancelledMessages).toBe(1);
    const msgs =
      await (await s().call("GET", `/v1/deliveries/${id}/messages?status=cancelled`, { key }))
        .json();
    const one = await (await s().call("GET", `/v1/messages/${msgs.items[0].id}`, { key })).json();
    expect(one.events).toMatchObject([{ event: "cancel", status: "cancelled" }]);
  });

  it("pages through a delivery's messages and filters by reason", async () => {
    const key = await s().key("acme");
    const id = await newDelivery(key);
    await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: {
        recipients: Array.from(
          { length: 25 },
          (_, i) => ({ externalId: `${i}`, address: i < 5 ? null : `u${i}@example.com` }),
        ),
      },
    });
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: { items: { externalId: string }[]; nextCursor: string | null } =
        await (await s().call(
          "GET",
          `/v1/deliveries/${id}/messages?limit=10${cursor ? `&cursor=${cursor}` : ""}`,
          { key },
        )).json();
      seen.push(...page.items.map((m) => m.externalId));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `${i}`));
    const byReason =
      await (await s().call("GET", `/v1/deliveries/${id}/messages?reason=7`, { key })).json();
    expect(byReason.items).toHaveLength(5);
    expect((await s().call("GET", `/v1/deliveries/${id}/messages?reason=13`, { key })).status).toBe(
      400,
    );
  });
});
