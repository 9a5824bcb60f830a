const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/u;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as milliseconds from `now`.
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/u.test(text)) return Number(text) * 1000;
  // The IMF-fixdate only: what servers send (RFC 9110 §5.6.7), and the one form Date.parse
  // reads the same everywhere. The obsolete RFC 850 and asctime forms count as absent.
  if (!IMF_FIXDATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * Origins that asked us to wait (a 429 with `Retry-After`), and until when. While an origin waits,
 * the channel does not send to it at all: the push service said it would refuse, and every
 * request in a throttling storm would only lengthen it. Messages to it get the same refusal at
 * once, with the time left, so the core retries them after it (DOMAIN §10: 429 → ignored 3).
 */
export class OriginBackoff {
  readonly #until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds `origin` still waits; 0 when it does not. */
  remaining(origin: string): number {
    const until = this.#until.get(origin);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.#until.delete(origin);
    return 0;
  }

  /** `origin` waits `ms` from now; a longer wait already set is kept. */
  hold(origin: string, ms: number): void {
    if (!(ms > 0)) return;
    const until = this.now() + ms;
    if (until > (this.#until.get(origin) ?? 0)) this.#until.set(origin, until);
  }
}
