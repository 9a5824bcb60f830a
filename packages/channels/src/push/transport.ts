import { Buffer } from "node:buffer";
import http, { type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { type AllowList, guardedLookup } from "./endpoint-policy.ts";

export interface PushTransportOptions {
  /** Hosts and networks allowed although not public (the endpoint policy's allow list). */
  allow: AllowList;
  /** Sockets kept per origin (host and port), busy or idle. */
  maxSocketsPerOrigin: number;
  /** A request without a complete answer this long after it got its socket is abandoned. */
  timeoutMs: number;
  tls?: PushTlsOptions;
  /** The DNS lookup under the guard; `dns.lookup` by default. */
  lookup?: LookupFunction;
}

export interface PushTlsOptions {
  /** Certificates to trust instead of the system's (PEM), e.g. the simulator's. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Verify the server's certificate (default true). False only for a local simulator. */
  rejectUnauthorized?: boolean;
}

/** What came back for one request: an answer (any status), or no answer. */
export type PushResponse =
  | { kind: "response"; status: number; location?: string; retryAfter?: string; body: string }
  | { kind: "error"; code: string; text: string };

/** Bytes of an error body kept; the core reads 500 characters of it. */
const BODY_KEPT = 2_048;

const header = (value: string | string[] | undefined) => Array.isArray(value) ? value[0] : value;

/**
 * HTTP for the push channel: one keep-alive agent per scheme, whose sockets get their address
 * only through `guardedLookup` (a name that resolves inside is refused at connect, whatever it
 * said at intake). Literal-IP hosts skip lookups: the caller checks those before. No redirect
 * is followed (node:http never does): a 3xx is an answer like any other.
 */
export class PushTransport {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timeoutMs: number;

  constructor(options: PushTransportOptions) {
    const lookup = guardedLookup(options.allow, options.lookup);
    const common = { keepAlive: true, maxSockets: options.maxSocketsPerOrigin, lookup };
    this.#http = new http.Agent(common);
    this.#https = new https.Agent({
      ...common,
      ...(options.tls?.ca !== undefined
        ? { ca: options.tls.ca as string | Buffer | (string | Buffer)[] }
        : {}),
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    });
    this.#timeoutMs = options.timeoutMs;
  }

  /** POSTs `body` to `url`; never rejects. */
  post(url: URL, headers: OutgoingHttpHeaders, body: Buffer): Promise<PushResponse> {
    return new Promise((resolve) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let response: IncomingMessage | null = null;
      const chunks: Buffer[] = [];
      let kept = 0;
      const finish = (result: PushResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      // An answer whose body breaks off (timeout, reset) still counts: its status is the news.
      const answered = () => {
        const res = response!;
        finish({
          kind: "response",
          status: res.statusCode ?? 0,
          location: header(res.headers.location),
          retryAfter: header(res.headers["retry-after"]),
          body: chunks.length === 0 ? "" : Buffer.concat(chunks).toString("utf8"),
        });
      };
      const secure = url.protocol === "https:";
      const req = (secure ? https : http).request({
        protocol: url.protocol,
        // URL keeps IPv6 hosts in brackets; sockets want the bare address.
        hostname: url.hostname.replace(/^\[(.*)\]$/u, "$1"),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: "POST",
        agent: secure ? this.#https : this.#http,
        headers,
      });
      // The clock starts with the socket, not while the request queues for one behind others to
      // the same origin: a timeout should mean the push service did not answer.
      req.once("socket", () => {
        timer = setTimeout(() => {
          req.destroy(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), {
            code: "ETIMEDOUT",
          }));
        }, this.#timeoutMs);
      });
      req.on("response", (res) => {
        response = res;
        res.on("data", (chunk: Buffer) => {
          if (kept < BODY_KEPT) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on("end", answered);
        res.on("close", answered);
        res.on("error", answered);
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (response) return answered();
        finish({ kind: "error", code: error.code ?? "EUNKNOWN", text: error.message });
      });
      req.end(body);
    });
  }

  /** Closes every socket, idle or busy. */
  destroy(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
