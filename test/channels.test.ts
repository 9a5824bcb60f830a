import { generateKeyPairSync } from "node:crypto";
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { describeBackends, type TestResponse } from "./support/harness.ts";

// Operator settings of the sending channels: refused with problem+json naming the field before
// anything uses them; secrets written, never read back.

describeBackends("channel settings", (s) => {
  const put = (path: string, json: unknown, key?: string) =>
    s().call("PUT", path, { json, ...(key ? { key } : {}) });
  const fields = async (res: TestResponse) =>
    ((await res.json()).errors ?? []).map((e: { path: string }) => e.path);

  it("refuses unusable email settings, naming the field", async () => {
    const bad = [
      [{ mode: "relay", bounceDomain: "b.example.com" }, "relay"],
      [{
        mode: "relay",
        relay: { host: "smtp.example.com", port: 99_999 },
        bounceDomain: "b.example.com",
      }, "relay.port"],
      [
        { mode: "relay", relay: { host: "bad host!", port: 25 }, bounceDomain: "b.example.com" },
        "relay.host",
      ],
      [{ mode: "direct", bounceDomain: "not a domain" }, "bounceDomain"],
      [
        { mode: "direct", bounceDomain: "b.example.com", unsubscribeBaseUrl: "ftp://x/u/" },
        "unsubscribeBaseUrl",
      ],
      [{ mode: "pigeon", bounceDomain: "b.example.com" }, "mode"],
    ] as const;
    for (const [body, field] of bad) {
      const res = await put("/v1/channels/email", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/u);
      expect(await fields(res), JSON.stringify(body)).toContain(field);
    }
    expect((await s().call("GET", "/v1/channels/email")).status).toBe(404);
  });

  it("keeps a relay password write-only, and keeps it when it is left out", async () => {
    const relay = { host: "smtp.example.com", port: 587, user: "u", password: "s3cret-pass" };
    const saved = await put("/v1/channels/email", {
      mode: "relay",
      relay,
      bounceDomain: "b.example.com",
    });
    expect(saved.status).toBe(200);
    const text = JSON.stringify(await (await s().call("GET", "/v1/channels/email")).json());
    expect(text).toContain("smtp.example.com");
    expect(text).not.toContain("s3cret-pass");
    const [row] = await s().database.rows<{ secrets: { password?: string } }>(
      sql`select secrets from channel_settings where channel = 'email'`,
    );
    expect(row!.secrets.password).toBe("s3cret-pass");
    const { password: _, ...withoutPassword } = relay;
    await put("/v1/channels/email", {
      mode: "relay",
      relay: withoutPassword,
      bounceDomain: "b.example.com",
    });
    const [again] = await s().database.rows<{ secrets: { password?: string } }>(
      sql`select secrets from channel_settings where channel = 'email'`,
    );
    expect(again!.secrets.password).toBe("s3cret-pass");
  });

  it("refuses VAPID keys that do not parse or do not match, and never shows the private one", async () => {
    const subject = "mailto:ops@example.com";
    const half = await put("/v1/channels/push", { subject, publicKey: "B".repeat(87) });
    expect(half.status).toBe(400);
    expect(await fields(half)).toContain("privateKey");
    const junk = await put("/v1/channels/push", {
      subject,
      publicKey: "not-a-key",
      privateKey: "not-a-key-either",
    });
    expect(junk.status).toBe(400);
    expect(await fields(junk)).toContain("privateKey");
    expect((await put("/v1/channels/push", { subject: "ops@example.com" })).status).toBe(400);
    // Generated when none are given: the public key is shown, the private one never.
    const generated = await put("/v1/channels/push", { subject });
    expect(generated.status).toBe(200);
    const view = await generated.json();
    expect(view.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/u);
    expect(view.privateKey).toBeUndefined();
    expect(JSON.stringify(await (await s().call("GET", "/v1/channels")).json())).not.toMatch(
      /privateKey/u,
    );
  });

  it("refuses a DKIM key that cannot sign, stores one that can, and never shows it", async () => {
    const junk = await put("/v1/dkim-keys/example.com/s1", { privateKey: "-----BEGIN nothing" });
    expect(junk.status).toBe(400);
    expect(await fields(junk)).toEqual(["privateKey"]);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect((await put("/v1/dkim-keys/example.com/s1", { privateKey: pem })).status).toBe(200);
    const listed = JSON.stringify(await (await s().call("GET", "/v1/dkim-keys")).json());
    expect(listed).toContain("example.com");
    expect(listed).not.toContain("PRIVATE KEY");
    expect((await put("/v1/dkim-keys/exa mple.com/s1", { privateKey: pem })).status).toBe(400);
  });

  it("is for operators only", async () => {
    const key = await s().key("shop");
    const res = await put(
      "/v1/channels/push",
      { subject: "mailto:ops@example.com" },
      key,
    );
    expect(res.status).toBe(403);
    expect((await s().call("GET", "/v1/channels", { key })).status).toBe(403);
    expect((await s().call("GET", "/v1/dkim-keys", { key })).status).toBe(403);
  });
});
