import { Buffer } from "node:buffer";
import { createPublicKey, type KeyObject, verify } from "node:crypto";

/**
 * VAPID (RFC 8292) as a push service checks it: `Authorization: vapid t=<JWT>, k=<application
 * server public key>`, the JWT signed with ES256 by the key in `k`. The gateway only signs (see
 * `vapid-tokens.ts`); this side serves the simulator, and lives beside the signer so that the
 * two ends of the wire format are kept, and tested against web-push, in one place. The split
 * between the two refusals:
 * - 401: we cannot authenticate the sender: header missing or malformed, a JWT that does not
 *   parse, another algorithm than ES256, a `k` that is not a P-256 point, a bad signature.
 * - 403: the signature is good but the claims are not acceptable: `aud` is not this push
 *   service's origin, `exp` is past or more than 24 h ahead, `sub` is missing; or the
 *   subscription was restricted to another application server key (RFC 8292 §4.2).
 */
export type VapidVerdict =
  | { ok: true; publicKey: string; claims: { aud: string; exp: number; sub: string } }
  | { ok: false; status: 401 | 403; error: string };

const MAX_AHEAD_SECONDS = 24 * 60 * 60;
const BASE64URL = /^[A-Za-z0-9_-]+$/u;
const CACHE_LIMIT = 10_000;

interface Verified {
  publicKey: string;
  claims: Record<string, unknown>;
}

/**
 * Verifies VAPID headers. Signature checks are the costly part (≈ 60 µs, plus ≈ 75 µs to import
 * a key), and senders reuse one token for many messages (web-push signs one per message; most
 * gateways cache it for hours): with `cache`, a token string and key seen before and verified
 * keep their verdict, while `aud` and `exp` are still checked on every message.
 */
export class VapidVerifier {
  #keys = new Map<string, KeyObject | null>();
  #tokens = new Map<string, Verified>();

  constructor(private readonly cache = true) {}

  verify(
    authorization: string | undefined,
    audiences: readonly string[],
    now = Date.now(),
  ): VapidVerdict {
    if (!authorization) {
      return { ok: false, status: 401, error: "missing Authorization header (VAPID required)" };
    }
    const match = /^vapid\s+(.*)$/isu.exec(authorization.trim());
    if (!match) {
      return { ok: false, status: 401, error: "Authorization scheme must be vapid (RFC 8292)" };
    }
    const params = new Map<string, string>();
    for (const part of match[1]!.split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    const token = params.get("t");
    const k = params.get("k");
    if (!token || !k) return { ok: false, status: 401, error: "vapid needs both t= and k=" };

    const key = `${k} ${token}`;
    let verified = this.cache ? this.#tokens.get(key) : undefined;
    if (!verified) {
      const result = this.#verifySignature(token, k);
      if ("error" in result) return { ok: false, status: 401, error: result.error };
      verified = result;
      if (this.cache) {
        if (this.#tokens.size >= CACHE_LIMIT) this.#tokens.clear();
        this.#tokens.set(key, verified);
      }
    }

    const { aud, exp, sub } = verified.claims;
    if (typeof aud !== "string" || !audiences.includes(aud)) {
      return {
        ok: false,
        status: 403,
        error: `aud ${JSON.stringify(aud)} is not this push service (${audiences[0]})`,
      };
    }
    const nowSeconds = Math.floor(now / 1000);
    if (typeof exp !== "number" || !Number.isFinite(exp)) {
      return { ok: false, status: 403, error: "exp missing" };
    }
    if (exp <= nowSeconds) return { ok: false, status: 403, error: "the JWT has expired" };
    if (exp > nowSeconds + MAX_AHEAD_SECONDS) {
      return { ok: false, status: 403, error: "exp is more than 24 hours ahead" };
    }
    if (typeof sub !== "string" || sub.length === 0) {
      return { ok: false, status: 403, error: "sub missing (mailto: or https: contact)" };
    }
    return { ok: true, publicKey: verified.publicKey, claims: { aud, exp, sub } };
  }

  #verifySignature(token: string, k: string): Verified | { error: string } {
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
      return { error: "t is not a JWS compact token" };
    }
    const [head, body, signature] = parts as [string, string, string];
    const header = parseJson(head);
    if (header?.alg !== "ES256") return { error: "JWT alg must be ES256" };
    const claims = parseJson(body);
    if (!claims) return { error: "JWT claims are not a JSON object" };
    const publicKey = this.#publicKey(k);
    if (!publicKey) return { error: "k is not an uncompressed P-256 public key" };
    const sig = Buffer.from(signature, "base64url");
    if (sig.length !== 64) return { error: "ES256 signature must be 64 bytes" };
    const ok = verify("sha256", Buffer.from(`${head}.${body}`, "latin1"), {
      key: publicKey,
      dsaEncoding: "ieee-p1363",
    }, sig);
    return ok ? { publicKey: k, claims } : { error: "the JWT signature does not verify with k" };
  }

  #publicKey(k: string): KeyObject | null {
    const cached = this.#keys.get(k);
    if (cached !== undefined) return cached;
    let key: KeyObject | null = null;
    const raw = BASE64URL.test(k) ? Buffer.from(k, "base64url") : Buffer.alloc(0);
    if (raw.length === 65 && raw[0] === 4) {
      try {
        key = createPublicKey({
          key: {
            kty: "EC",
            crv: "P-256",
            x: raw.subarray(1, 33).toString("base64url"),
            y: raw.subarray(33).toString("base64url"),
          },
          format: "jwk",
        });
      } catch {
        key = null;
      }
    }
    if (this.#keys.size >= CACHE_LIMIT) this.#keys.clear();
    this.#keys.set(k, key);
    return key;
  }
}

function parseJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
}
