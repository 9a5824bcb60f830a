import { expect, it } from "vitest";
import { describeBackends } from "./support/harness.ts";

const emailDelivery = {
  channel: "email",
  content: { from: "news@example.com", subject: "Hi", text: "Hello" },
};

describeBackends("deliveries", (s) => {
  it("creates, reads, lists, starts and cancels a delivery", async () => {
    const { call } = s();
    const key = await s().key("acme");
    const created = await call("POST", "/v1/deliveries", {
      key,
      json: { ...emailDelivery, externalRef: "camp-1" },
    });
    expect(created.status).toBe(201);
    const d = await created.json();
    expect(d).toMatchObject({ channel: "email", state: "draft", externalRef: "camp-1" });
    const got = await (await call("GET", `/v1/deliveries/${d.id}`, { key })).json();
    expect(got.counts).toEqual({ total: 0, byStatus: {}, byReason: {} });
    const list = await (await call("GET", "/v1/deliveries?externalRef=camp-1", { key })).json();
    expect(list.items.map((x: { id: string }) => x.id)).toEqual([d.id]);
    expect((await (await call("POST", `/v1/deliveries/${d.id}/start`, { key })).json()).state).toBe(
      "running",
    );
    const cancelled = await call("POST", `/v1/deliveries/${d.id}/cancel`, { key });
    expect((await cancelled.json()).state).toBe("cancelled");
    expect((await call("POST", `/v1/deliveries/${d.id}/start`, { key })).status).toBe(409);
  });

  it("takes a 10,000-recipient part with 100 duplicates, 50 empty and 25 denylisted addresses", async () => {
    const { call, operatorKey } = s();
    const key = await s().key("acme");
    for (let i = 0; i < 25; i++) {
      const put = await call(
        "PUT",
        `/v1/quarantine/email/${encodeURIComponent(`user${9000 + i}@example.com`)}`,
        {
          key: operatorKey,
          json: { status: "denylisted", comment: "suppression list" },
        },
      );
      expect(put.status).toBeLessThan(300);
    }
    const d = await (await call("POST", "/v1/deliveries", { key, json: emailDelivery })).json();
    const recipients = [
      ...Array.from(
        { length: 9_850 },
        (_, i) => ({ externalId: `r${i}`, address: `user${i}@example.com`, fields: { n: i } }),
      ),
      ...Array.from(
        { length: 100 },
        (_, i) => ({ externalId: `d${i}`, address: `user${i}@EXAMPLE.com` }),
      ),
      ...Array.from(
        { length: 50 },
        (_, i) => ({ externalId: `e${i}`, address: i % 2 ? "" : null }),
      ),
    ];
    const res = await call("POST", `/v1/deliveries/${d.id}/parts`, { key, json: { recipients } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      received: 10_000,
      accepted: 9_825,
      ignored: 175,
      excluded: [
        { reason: 7, label: "Address not specified", count: 50 },
        { reason: 8, label: "Address on denylist", count: 25 },
        { reason: 10, label: "Duplicate", count: 100 },
      ],
      rejected: [],
    });
    const got = await (await call("GET", `/v1/deliveries/${d.id}`, { key })).json();
    expect(got.counts).toEqual({
      total: 10_000,
      byStatus: { pending: 9_825, ignored: 175 },
      byReason: { 7: 50, 8: 25, 10: 100 },
    });
  });
});
