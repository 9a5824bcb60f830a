import fc from "fast-check";
import type { Hints } from "./schema-arbitrary.ts";
import type { Pools } from "./world.ts";

/**
 * Values by property name, for strings a schema cannot describe: an address must look like one
 * for a part to get past preparation, a sender like a sender. Named by what a delivery gateway's
 * API calls things (`address`, `from`, `domain`), not by route: a new route using the same names
 * gets the same depth. Each list mixes good values with near misses.
 */
/** Addresses no fixture quarantines: they get past preparation and are written as pending. */
const CLEAN_ADDRESS = fc.oneof(
  fc.nat(99_999).map((n) => `user${n}@example.com`),
  fc.nat(99_999_999).map((n) => `+336${String(n).padStart(8, "0")}`),
  fc.nat(99_999).map((n) => `https://push.example.com/send/${n}`),
);

const STATIC: Record<string, fc.Arbitrary<unknown>> = {
  address: fc.oneof(
    { weight: 3, arbitrary: CLEAN_ADDRESS },
    fc.constantFrom(
      "alice@example.com",
      "Bob@Example.ORG",
      "carol+tag@sub.example.com",
      "dave@example.net",
      "imported@example.com",
      "+33612345678",
      "+447700900123",
      "06 12 34 56 78",
      "+1 (415) 555-0100",
      "https://push.example.com/send/abc123",
      "not an address",
      "a@b",
      "@example.com",
      "alice@",
      "alice@exa mple.com",
      "alice@例え.jp",
      "用户@例子.广告",
      '"quoted local"@example.com',
      `${"a".repeat(64)}@example.com`,
      `a@${"b".repeat(250)}.com`,
      "alice@example.com\r\nBcc: x@example.com",
      "+0000000000000000",
      "",
    ),
    { weight: 1, arbitrary: fc.emailAddress() },
  ),
  endpoint: fc.oneof(
    { weight: 2, arbitrary: fc.nat(99_999).map((n) => `https://push.example.com/send/${n}`) },
    fc.constantFrom(
      "https://push.example.com/send/abc123",
      "https://internal.example.com/push",
      "https://fcm.googleapis.com/fcm/send/xyz",
      "http://127.0.0.1/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "not a url",
    ),
  ),
  from: fc.constantFrom(
    "News <news@example.com>",
    "news@example.com",
    '"Quoted, Name" <news@example.com>',
    "news@example.com\r\nBcc: x@example.com",
    "Ünïcødé <news@example.com>",
    "<>",
    "abc",
  ),
  replyTo: fc.constantFrom("reply@example.com", "a@b", "reply@example.com\nBcc: x@example.com"),
  sender: fc.constantFrom("Sendgate", "+33612345678", "36000", "TooLongSender1", "Send gate", "é"),
  domain: fc.constantFrom(
    "example.com",
    "*.example.org",
    "*",
    "EXAMPLE.COM",
    " example.com ",
    "xn--bcher-kva.example",
    `${"a".repeat(63)}.com`,
    `${"a".repeat(64)}.com`,
    "ex ample.com",
    "*.*",
    "-bad.com",
  ),
  domainName: fc.constantFrom("example.com", "Example.COM", "mail.example.org", "bad_domain"),
  keySelector: fc.constantFrom("s1", "2024.selector", "-bad", "a".repeat(63)),
  host: fc.constantFrom("smtp.example.com", "127.0.0.1", "[::1]", "::1", "smtp.example.com:25"),
  port: fc.constantFrom(25, 587, 0, 65_535, 65_536),
  pattern: fc.constantFrom(
    "mailbox full",
    "user unknown",
    "^5\\d\\d",
    "(a+)+$", // catastrophic backtracking, when `regex` is true
    "[",
    "(?<x>",
    "\\",
    ".*",
  ),
  externalId: fc.oneof(
    fc.constantFrom("r1", "r2", "fx0-0", "fx0-1"),
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 }),
  ),
  p256dh: fc.constant(
    "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
  ),
  auth: fc.constant("tBHItJI5svbpez7KI4CCXg"),
};

/**
 * Names whose valid values are a sparse set only the gateway knows (reason codes, rule ids, the
 * normalized texts of its table): harvested values first, the schema's own values second.
 */
const POOLED = new Set(["reason", "ruleId", "text", "externalId"]);

/** Names whose harvested values come from a differently named field of the answers. */
const ALIASES: Record<string, string[]> = {
  text: ["normalizedText", "firstText"],
  ruleId: ["ruleId", "id"],
  cursor: ["nextCursor"],
};

const KEYS: Record<string, fc.Arbitrary<string>> = {
  headers: fc.constantFrom(
    "X-Campaign",
    "X-Tag",
    "List-Unsubscribe",
    "Bcc",
    "Subject",
    "Content-Type",
    "DKIM-Signature",
    "Bad Name",
    "X-A:B",
    "x".repeat(200),
  ),
  fields: fc.constantFrom("firstName", "lastName", "segment", "__proto__", "constructor", "a b"),
};

/** A value from a live pool, read when the case is made; `fallback` while the pool is empty. */
export function fromPool(
  pool: () => readonly unknown[],
  fallback: fc.Arbitrary<unknown>,
): fc.Arbitrary<unknown> {
  return fc.tuple(fc.nat(), fallback).map(([i, f]) => {
    const list = pool();
    return list.length ? list[i % list.length] : f;
  });
}

/** Static hints and the pools of the current world (read through `pools()`, which changes). */
export function hintsFor(pools: () => Pools): Hints {
  return {
    byName(name, plain, accepts, schema) {
      // A formatted string (a date-time called `from`) has its own generator: names collide.
      const fixed = schema.format ? undefined : STATIC[name];
      const names = [name, ...(ALIASES[name] ?? [])];
      const harvested = () => names.flatMap((n) => pools().byName(n)).filter(accepts);
      const live = fromPool(harvested, fixed ?? plain);
      if (fixed) {
        return fc.oneof(
          { weight: 3, arbitrary: fixed },
          { weight: 1, arbitrary: live },
          { weight: 2, arbitrary: plain },
        );
      }
      // A value an answer carried under this name: an id, a status, a real cursor.
      const share = POOLED.has(name) ? 3 : 1;
      return fc.oneof({ weight: 4, arbitrary: plain }, { weight: share * 2, arbitrary: live });
    },
    keysFor: (name) => KEYS[name] ?? null,
    donors: () => pools().objects,
  };
}
