import { expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { describeBackends, type TestResponse } from "./support/harness.ts";

const entry = (channel: string, address: string) =>
  `/v1/quarantine/${channel}/${encodeURIComponent(address)}`;
const csv = { "content-type": "text/csv" };
const ndjson = { "content-type": "application/x-ndjson" };

/** A body that arrives in pieces of `size` bytes, cutting lines and UTF-8 sequences anywhere. */
function trickle(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function problem(res: TestResponse, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return await res.json();
}

const paths = (body: { errors?: { path: string }[] }) => body.errors?.map((e) => e.path);

describeBackends("quarantine", (s) => {
  it("answers 401 without a key and 403 to an instance key on every route", async () => {
    const { call } = s();
    const key = await s().key("acme");
    const routes: [string, string, Record<string, unknown>][] = [
      ["GET", "/v1/quarantine", {}],
      ["GET", entry("email", "a@example.com"), {}],
      ["PUT", entry("email", "a@example.com"), { json: { status: "denylisted" } }],
      ["DELETE", entry("email", "a@example.com"), {}],
      ["POST", "/v1/quarantine/import?channel=email", { body: "a@example.com\n", headers: csv }],
    ];
    for (const [method, path, options] of routes) {
      expect((await problem(await call(method, path, { ...options, key: null }), 401)).type).toBe(
        "urn:sendgate:problem:unauthorized",
      );
      expect((await problem(await call(method, path, { ...options, key }), 403)).type).toBe(
        "urn:sendgate:problem:forbidden",
      );
    }
    // Nothing was written by the refused calls.
    expect((await (await call("GET", "/v1/quarantine")).json()).items).toEqual([]);
  });

  it("sets, reads, changes and removes an address's status", async () => {
    const { call } = s();
    const created = await call("PUT", entry("email", "Jane.Doe@EXAMPLE.com"), {
      json: { status: "denylisted", comment: "asked by phone" },
    });
    expect(created.status).toBe(201);
    const first = await created.json();
    expect(first).toMatchObject({
      channel: "email",
      address: "Jane.Doe@example.com", // domain lower-cased, local part kept
      status: "denylisted",
      errorCount: 0,
      lastType: null,
      lastReason: null,
      lastText: null,
      firstErrorAt: null,
      lastErrorAt: null,
      comment: "asked by phone",
    });
    expect(Date.parse(first.statusSince)).not.toBeNaN();

    // Looked up under another spelling of the same address.
    const got = await call("GET", entry("email", "Jane.Doe@Example.COM"));
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(first);

    // Same status again: 200, the status date and the comment are kept.
    const again = await call("PUT", entry("email", "Jane.Doe@example.com"), {
      json: { status: "denylisted" },
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({
      statusSince: first.statusSince,
      comment: "asked by phone",
    });

    const allowed = await (await call("PUT", entry("email", "Jane.Doe@example.com"), {
      json: { status: "allowlisted", comment: "VIP" },
    })).json();
    expect(allowed).toMatchObject({ status: "allowlisted", comment: "VIP" });
    expect(Date.parse(allowed.statusSince)).toBeGreaterThanOrEqual(Date.parse(first.statusSince));

    expect((await call("DELETE", entry("email", "jane.doe@example.com"))).status).toBe(404); // the local part is case-sensitive
    expect((await call("DELETE", entry("email", "Jane.Doe@example.com"))).status).toBe(204);
    expect((await problem(await call("GET", entry("email", "Jane.Doe@example.com")), 404)).type)
      .toBe("urn:sendgate:problem:notFound");
    expect((await call("DELETE", entry("email", "Jane.Doe@example.com"))).status).toBe(404);
  });

  it("keys phones in E.164 and push subscriptions by their endpoint URL", async () => {
    const { call } = s();
    const sms = await call("PUT", entry("sms", "+33 6 12-34.56 78"), {
      json: { status: "quarantined" },
    });
    expect(sms.status).toBe(201);
    expect((await sms.json()).address).toBe("+33612345678");
    expect((await call("GET", entry("sms", "0033612345678"))).status).toBe(200);

    const endpoint = "https://push.example.net/wpush/v2/gAAAAABk?x=1&y=2";
    const push = await call("PUT", entry("push", endpoint), { json: { status: "denylisted" } });
    expect(push.status).toBe(201);
    expect((await push.json()).address).toBe(endpoint);
    expect((await (await call("GET", entry("push", endpoint))).json()).status).toBe("denylisted");
    expect((await call("DELETE", entry("sms", "+33612345678"))).status).toBe(204);
    expect((await call("DELETE", entry("push", endpoint))).status).toBe(204);
  });

  it("setting `valid` resets the error count and the operator becomes the cause", async () => {
    const { call, database } = s();
    const at = new Date("2024-05-01T10:00:00Z").toISOString();
    await database.rows(sql`
      insert into quarantine (channel, address, status, error_count, last_type, last_reason, last_text, cause_text, first_error_at, last_error_at, status_since)
      values ('email', 'full@example.com', 'quarantined', 5, 'soft', 5, '552 mailbox full', '552 mailbox full', ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz)`);
    const res = await call("PUT", entry("email", "full@example.com"), {
      json: { status: "valid", comment: "mailbox emptied" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "valid",
      errorCount: 0,
      lastType: "soft",
      lastReason: 5,
      lastText: "552 mailbox full",
      firstErrorAt: "2024-05-01T10:00:00.000Z",
      comment: "mailbox emptied",
    });
    const [row] = await database.rows<{ cause_text: string | null }>(
      sql`select cause_text from quarantine where address = 'full@example.com'`,
    );
    expect(row!.cause_text).toBeNull();
    expect((await call("DELETE", entry("email", "full@example.com"))).status).toBe(204);
  });

  it("names every invalid field", async () => {
    const { call } = s();
    expect(paths(await problem(await call("GET", entry("fax", "a@example.com")), 400))).toEqual([
      "param.channel",
    ]);
    expect(paths(await problem(await call("GET", entry("email", "not-an-address")), 400))).toEqual([
      "param.address",
    ]);
    expect(paths(await problem(await call("DELETE", entry("sms", "0612345678")), 400))).toEqual([
      "param.address",
    ]);
    expect(
      paths(
        await problem(
          await call("PUT", entry("push", "ftp://push.example.net/x"), {
            json: { status: "denylisted" },
          }),
          400,
        ),
      ),
    )
      .toEqual(["param.address"]);
    expect(
      paths(
        await problem(
          await call("PUT", entry("email", "a@example.com"), { json: { status: "erroneous" } }),
          400,
        ),
      ),
    ).toEqual(["status"]);
    expect(
      paths(
        await problem(
          await call("PUT", entry("email", "a@example.com"), { json: { comment: "x" } }),
          400,
        ),
      ),
    ).toEqual(["status"]);
    expect(
      paths(
        await problem(
          await call("PUT", entry("email", "a@example.com"), {
            json: { status: "denylisted", reason: 8 },
          }),
          400,
        ),
      ),
    )
      .toEqual(["reason"]);
    expect(
      paths(
        await problem(
          await call("PUT", entry("email", "a@example.com"), {
            json: { status: "denylisted", comment: "x".repeat(1001) },
          }),
          400,
        ),
      ),
    )
      .toEqual(["comment"]);
    expect(paths(await problem(await call("GET", "/v1/quarantine?status=lost"), 400))).toEqual([
      "query.status",
    ]);
    expect(paths(await problem(await call("GET", "/v1/quarantine?channel=fax"), 400))).toEqual([
      "query.channel",
    ]);
    expect(paths(await problem(await call("GET", "/v1/quarantine?limit=0"), 400))).toEqual([
      "query.limit",
    ]);
    expect(paths(await problem(await call("GET", "/v1/quarantine?cursor=garbage"), 400))).toEqual([
      "query.cursor",
    ]);
    const post = (query: string) =>
      call("POST", `/v1/quarantine/import${query}`, { body: "a@example.com\n", headers: csv });
    expect(paths(await problem(await post(""), 400))).toEqual(["query.channel"]);
    expect(paths(await problem(await post("?channel=email&status=valid"), 400))).toEqual([
      "query.status",
    ]);
    expect(paths(await problem(await post("?channel=fax"), 400))).toEqual(["query.channel"]);
    const json = await call("POST", "/v1/quarantine/import?channel=email", {
      json: [{ address: "a@example.com" }],
    });
    expect((await problem(json, 415)).type).toBe("urn:sendgate:problem:unsupportedMediaType");
    // None of these wrote anything.
    expect((await call("GET", entry("email", "a@example.com"))).status).toBe(404);
  });

  it("imports CSV: header, comments, quotes, CRLF; invalid lines counted with their line number", async () => {
    const { call } = s();
    const file = [
      "Address,Comment", // 1: header, skipped
      "a@example.com,first", // 2
      "", // 3: blank, not counted
      "not-an-address", // 4: invalid
      '"b@Example.COM","said ""stop"", twice"', // 5
      "+33 6 12 34 56 78", // 6: a phone, not an email
      '"c@example.com,unterminated', // 7: bad quoting
      "c@example.com\r", // 8: CRLF
      "", // the file's final newline
    ].join("\n");
    const res = await call("POST", "/v1/quarantine/import?channel=email", {
      body: file,
      headers: csv,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      received: 6,
      imported: 3,
      invalid: 3,
      errors: [
        { line: 4, address: "not-an-address", error: "an email address needs local@domain" },
        { line: 6, address: "+33 6 12 34 56 78", error: "an email address needs local@domain" },
        {
          line: 7,
          address: '"c@example.com,unterminated',
          error: "unterminated or misplaced quote",
        },
      ],
    });
    const list = await (await call("GET", "/v1/quarantine?channel=email&status=denylisted")).json();
    expect(
      list.items.map((e: { address: string; comment: string | null }) => [e.address, e.comment]),
    ).toEqual([
      ["a@example.com", "first"],
      ["b@example.com", 'said "stop", twice'],
      ["c@example.com", null],
    ]);
  });

  it("imports NDJSON with the status asked for, and a re-import changes nothing", async () => {
    const { call } = s();
    const file = [
      '{"address":"+1 555 010 0001","comment":"opted out"}', // 1
      '{"address":"+15550100002"}', // 2
      "{not json", // 3
      '{"comment":"no address"}', // 4
      '{"address":"555-0100","comment":"national"}', // 5: no country code
      '{"address":"+15550100003","source":"crm"}', // 6: unknown field
      "[1,2]", // 7
      '{"address":"+15550100001"}', // 8: the same number as line 1, no comment: line 1's is kept
    ].join("\n"); // no final newline
    const post = () =>
      call("POST", "/v1/quarantine/import?channel=sms&status=quarantined", {
        body: file,
        headers: ndjson,
      });
    const first = await post();
    expect(first.status).toBe(200);
    const answer = await first.json();
    expect(answer).toMatchObject({ received: 8, imported: 3, invalid: 5 });
    expect(answer.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5, 6, 7]);
    expect(answer.errors[2]).toEqual({
      line: 5,
      address: "555-0100",
      error: "a phone number needs its country code (+…)",
    });
    expect(answer.errors[3].error).toContain("`source`");

    const before = (await (await call("GET", "/v1/quarantine?channel=sms")).json()).items;
    expect(
      before.map((
        e: { address: string; status: string; comment: string | null },
      ) => [e.address, e.status, e.comment]),
    ).toEqual([
      ["+15550100001", "quarantined", "opted out"],
      ["+15550100002", "quarantined", null],
    ]);
    await new Promise((r) => setTimeout(r, 5));
    expect(await (await post()).json()).toEqual(answer);
    expect((await (await call("GET", "/v1/quarantine?channel=sms")).json()).items).toEqual(before);

    // Another status moves the addresses: their status date changes, their comment stays.
    const moved = await call("POST", "/v1/quarantine/import?channel=sms&status=allowlisted", {
      body: "+15550100001\n",
      headers: csv,
    });
    expect((await moved.json()).imported).toBe(1);
    const now = await (await call("GET", entry("sms", "+15550100001"))).json();
    expect(now).toMatchObject({ status: "allowlisted", comment: "opted out" });
    expect(now.statusSince > before[0].statusSince).toBe(true);
  });

  it("reads a body that arrives in small pieces, cut inside lines and characters", async () => {
    const { call } = s();
    const file = "address\r\njosé@exämple.com,première\r\nzoë@example.org\r\nnot-an-address\r\n";
    const res = await call("POST", "/v1/quarantine/import?channel=email", {
      body: trickle("\uFEFF" + file, 3),
      headers: csv,
    });
    expect(await res.json()).toEqual({
      received: 3,
      imported: 2,
      invalid: 1,
      errors: [{
        line: 4,
        address: "not-an-address",
        error: "an email address needs local@domain",
      }],
    });
    expect(await (await call("GET", entry("email", "josé@EXÄMPLE.com"))).json()).toMatchObject({
      address: "josé@exämple.com",
      comment: "première",
    });
    expect((await call("GET", entry("email", "zoë@example.org"))).status).toBe(200);
  });

  it("refuses an over-long line without holding it", async () => {
    const { call } = s();
    const file = `long@example.com,${"x".repeat(20_000)}\nshort@example.com\n${"y".repeat(30_000)}`;
    const res = await call("POST", "/v1/quarantine/import?channel=email", {
      body: trickle(file, 4096),
      headers: csv,
    });
    const answer = await res.json();
    expect(answer).toMatchObject({ received: 3, imported: 1, invalid: 2 });
    expect(answer.errors.map((e: { line: number; error: string }) => [e.line, e.error])).toEqual([
      [1, "line longer than 8192 characters"],
      [3, "line longer than 8192 characters"],
    ]);
    expect((await call("GET", entry("email", "long@example.com"))).status).toBe(404);
    expect((await call("GET", entry("email", "short@example.com"))).status).toBe(200);
  });

  it("lists with filters and pages through the entries by (channel, address)", async () => {
    const { call } = s();
    const emails = Array.from(
      { length: 23 },
      (_, i) => `list${String(i).padStart(2, "0")}@Paging.test`,
    ).join("\n");
    expect(
      (await (await call("POST", "/v1/quarantine/import?channel=email", {
        body: emails,
        headers: csv,
      })).json()).imported,
    ).toBe(23);
    await call("PUT", entry("email", "list_99%@paging.test"), { json: { status: "allowlisted" } });
    await call("PUT", entry("sms", "+15550199999"), { json: { status: "denylisted" } });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/quarantine?q=PAGING.TEST&limit=10${
        cursor ? `&cursor=${cursor}` : ""
      }`;
      const page = await (await call("GET", url)).json();
      seen.push(...page.items.map((e: { address: string }) => e.address));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    const expected = [
      ...Array.from({ length: 23 }, (_, i) => `list${String(i).padStart(2, "0")}@paging.test`),
      "list_99%@paging.test",
    ];
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(new Set(seen).size).toBe(24);

    // `q` is taken literally: `_` and `%` are no wildcards.
    const literal = await (await call("GET", `/v1/quarantine?q=${encodeURIComponent("_99%")}`))
      .json();
    expect(literal.items.map((e: { address: string }) => e.address)).toEqual([
      "list_99%@paging.test",
    ]);
    const allowed =
      await (await call("GET", "/v1/quarantine?status=allowlisted&channel=email&q=paging")).json();
    expect(allowed).toEqual({
      items: [expect.objectContaining({ address: "list_99%@paging.test" })],
      nextCursor: null,
    });
    const sms = await (await call("GET", "/v1/quarantine?channel=sms&q=0199999")).json();
    expect(sms.items.map((e: { channel: string; address: string }) => [e.channel, e.address]))
      .toEqual([["sms", "+15550199999"]]);
    // Channel comes first in the order: after every email, the SMS entries.
    const all = await (await call("GET", "/v1/quarantine?limit=1000")).json();
    const channelsInOrder = all.items.map((e: { channel: string }) => e.channel);
    expect(channelsInOrder.indexOf("sms")).toBeGreaterThan(channelsInOrder.lastIndexOf("email"));
  });

  it("still limits the size of other bodies", async () => {
    const res = await s().call("PUT", entry("email", "big@example.com"), {
      json: { status: "denylisted", comment: "x".repeat(2 * 1024 * 1024) },
    });
    expect((await problem(res, 413)).type).toBe("urn:sendgate:problem:tooLarge");
  });

  it(
    "imports 200,000 streamed lines, past the body size limit, into as many denylisted rows",
    async () => {
      const { call, database } = s();
      const total = 200_000;
      const perChunk = 10_000;
      let next = 0;
      const encoder = new TextEncoder();
      // Generated as it is read: neither side holds the whole file.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (next >= total) return controller.close();
          let text = next === 0 ? "address,comment\n" : "";
          for (const end = next + perChunk; next < end; next++) {
            text += `bulk${next}@Bulk${next % 97}.example,list 2024\n`;
          }
          controller.enqueue(encoder.encode(text));
        },
      });
      const res = await call("POST", "/v1/quarantine/import?channel=email", { body, headers: csv });
      expect(await res.json()).toEqual({
        received: total,
        imported: total,
        invalid: 0,
        errors: [],
      });
      const [row] = await database.rows<{ n: number }>(sql`
      select count(*)::int as n from quarantine where channel = 'email' and status = 'denylisted' and address like 'bulk%'`);
      expect(row!.n).toBe(total);
      expect(
        (await (await call("GET", entry("email", `bulk199999@BULK${199_999 % 97}.example`))).json())
          .comment,
      ).toBe("list 2024");
    },
    120_000,
  );
}, { maxBodyBytes: 1024 * 1024 });
