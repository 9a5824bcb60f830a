import { expect, it } from "vitest";
import { describeBackends } from "./support/harness.ts";

// Two quarantine scopes (DOMAIN §7): what an instance's recipients decided binds its deliveries
// only; what delivery errors teach, and the operator's denylist, bind every instance.
const email = { channel: "email", content: { from: "n@example.com", subject: "Hi", text: "x" } };

describeBackends("suppressions: an instance's own list", (s) => {
  const part = async (key: string, addresses: string[]) => {
    const id = (await (await s().call("POST", "/v1/deliveries", { key, json: email })).json()).id;
    return await (await s().call("POST", `/v1/deliveries/${id}/parts`, {
      key,
      json: { recipients: addresses.map((address, i) => ({ externalId: `${i}`, address })) },
    })).json();
  };

  it("excludes an instance's suppressed address from its own deliveries only", async () => {
    const a = await s().key("shop-a");
    const b = await s().key("shop-b");
    const put = await s().call("PUT", "/v1/suppressions/email/gone%40example.com", {
      key: a,
      json: { comment: "unsubscribed" },
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ status: "denylisted", comment: "unsubscribed" });
    const imported = await (await s().call("POST", "/v1/suppressions/import?channel=email", {
      key: a,
      body: "address\nlist1@example.com\nlist2@example.com,from the CRM\nnot-an-address\n",
      headers: { "content-type": "text/csv" },
    })).json();
    expect(imported).toMatchObject({ received: 3, imported: 2, invalid: 1 });

    const addresses = ["gone@example.com", "list1@example.com", "kept@example.com"];
    expect(await part(a, addresses)).toMatchObject({
      accepted: 1,
      excluded: [{ reason: 8, count: 2 }],
    });
    expect(await part(b, addresses)).toMatchObject({ accepted: 3, ignored: 0 });

    // Each instance sees its own list only; the operator sees every scope, named.
    const listA = await (await s().call("GET", "/v1/suppressions", { key: a })).json();
    expect(listA.items.map((e: { address: string }) => e.address).sort()).toEqual([
      "gone@example.com",
      "list1@example.com",
      "list2@example.com",
    ]);
    expect((await (await s().call("GET", "/v1/suppressions", { key: b })).json()).items).toEqual(
      [],
    );
    expect((await s().call("GET", "/v1/suppressions/email/gone%40example.com", { key: b })).status)
      .toBe(404);
    const all = await (await s().call("GET", "/v1/quarantine?q=gone")).json();
    expect(all.items).toEqual([
      expect.objectContaining({ address: "gone@example.com", instanceId: expect.any(String) }),
    ]);
    // The operator's entry of the same address is another one: the platform's.
    expect((await s().call("GET", "/v1/quarantine/email/gone%40example.com")).status).toBe(404);

    expect(
      (await s().call("DELETE", "/v1/suppressions/email/gone%40example.com", { key: a })).status,
    )
      .toBe(204);
    expect(await part(a, ["gone@example.com"])).toMatchObject({ accepted: 1 });
  });

  it("lets a platform entry bind every instance, whatever an instance's own list says", async () => {
    const a = await s().key("shop-a");
    await s().call("PUT", "/v1/quarantine/email/bounced%40example.com", {
      json: { status: "quarantined" },
    });
    await s().call("PUT", "/v1/suppressions/email/bounced%40example.com", { key: a, json: {} });
    expect(await part(a, ["bounced@example.com"])).toMatchObject({
      accepted: 0,
      excluded: [{ reason: 8, count: 1 }],
    });
    expect(await part(await s().key("shop-c"), ["bounced@example.com"])).toMatchObject({
      excluded: [{ reason: 9, count: 1 }],
    });
  });
});
