import type { Buffer } from "node:buffer";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type {
  SMTPConnectionOptions,
  SMTPConnectionSendInfo,
  SMTPError,
} from "nodemailer/lib/smtp-connection";

/**
 * The connections to one SMTP host (a relay, or one MX), on nodemailer's SMTPConnection.
 *
 * Why not nodemailer's own SMTPPool: it retries a message by itself when a reused connection
 * closes before the message was streamed — a 421 at RCPT or a connection dropped after RCPT —
 * so the remote sees the same recipient again at once (the simulator's ledger counts two or
 * three sessions for one `trylater@`), and when its retries run out it reports "Reached maximum
 * number of retries" instead of the server's reply. Whether and when to retry is the core's
 * decision (DOMAIN §5, §10: a throttling 421 waits for the schedule); here every message gets
 * exactly one attempt and the reply or error that ended it.
 *
 * What this pool does itself:
 * - at most `maxConnections` connections; messages wait in order for a free one;
 * - a connection is reused after a refusal (RSET) and replaced after `maxMessages`, an error, or
 *   a 421;
 * - a connection that fails to open while others work (a server limiting concurrent sessions)
 *   lowers the cap for a while instead of failing messages; when none works, the host is down:
 *   every waiting message fails with that error (phase `connect`: nothing was sent, so the
 *   router may try the next MX).
 */
export type SmtpResult =
  | { ok: true; info: SMTPConnectionSendInfo }
  /** `connect`: the session never got ready, nothing of the message left; `send`: it did. */
  | { ok: false; phase: "connect" | "send"; error: SMTPError }
  /** The message could not be built (a DKIM key that does not parse …): nothing was sent. */
  | { ok: false; phase: "build"; error: Error };

export interface SmtpJob {
  envelope: { from: string; to: string[] };
  build(): Promise<Buffer>;
}

export interface HostPoolOptions {
  /** nodemailer connection options: host, port, TLS, timeouts, name. */
  connection: SMTPConnectionOptions;
  auth?: { user: string; pass: string };
  maxConnections: number;
  maxMessages: number;
  /** One message's limit from getting a connection to its final reply. */
  messageTimeoutMs: number;
  /** How long a host stays down, or a lowered cap stays lowered (default 30 s). */
  backoffMs?: number;
  /** Close a connection idle this long (default 30 s). */
  idleTimeoutMs?: number;
  now?: () => number;
}

interface Waiting {
  job: SmtpJob;
  resolve: (result: SmtpResult) => void;
}

interface Pooled {
  connection: SMTPConnection;
  messages: number;
  busy: boolean;
  dead: boolean;
  idleTimer: ReturnType<typeof setTimeout> | null;
  ending: Promise<void> | null;
}

const closedError = (message: string, code = "ECONNECTION"): SMTPError =>
  Object.assign(new Error(message), { code, command: "CONN" });

export class HostPool {
  readonly #options: HostPoolOptions;
  readonly #now: () => number;
  readonly #queue: Waiting[] = [];
  readonly #ready = new Set<Pooled>();
  #opening = 0;
  #cap: number;
  #capUntil = 0;
  #downUntil = 0;
  #inFlight = 0;
  #closed = false;
  #drained: (() => void) | null = null;
  readonly #ending = new Set<Promise<void>>();

  constructor(options: HostPoolOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#cap = options.maxConnections;
  }

  /** True while the last attempt to reach the host failed with no connection working. */
  get down(): boolean {
    return this.#downUntil > this.#now();
  }

  /** Nothing waiting, nothing sending, no connection open: the pool can be dropped. */
  get empty(): boolean {
    return this.#queue.length === 0 && this.#inFlight === 0 && this.#ready.size === 0 &&
      this.#opening === 0;
  }

  send(job: SmtpJob): Promise<SmtpResult> {
    if (this.#closed) {
      return Promise.resolve({
        ok: false,
        phase: "connect",
        error: closedError("the channel is closed"),
      });
    }
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve });
      this.#pump();
    });
  }

  /** Lets queued and in-flight messages finish, then says QUIT on every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length > 0 || this.#inFlight > 0) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
    }
    for (const pooled of [...this.#ready]) void this.#retire(pooled, true);
    await Promise.all([...this.#ending]);
  }

  #pump(): void {
    if (this.#capUntil && this.#capUntil <= this.#now()) {
      this.#cap = this.#options.maxConnections;
      this.#capUntil = 0;
    }
    while (this.#queue.length > 0) {
      const free = [...this.#ready].find((p) => !p.busy && !p.dead);
      if (free) {
        this.#run(free, this.#queue.shift()!);
        continue;
      }
      // Open only for messages no connection being opened will take.
      if (this.#queue.length <= this.#opening) break;
      if (this.#ready.size + this.#opening >= this.#cap) break;
      this.#open();
    }
    if (this.#drained && this.#queue.length === 0 && this.#inFlight === 0) {
      this.#drained();
      this.#drained = null;
    }
  }

  #open(): void {
    this.#opening++;
    const connection = new SMTPConnection(this.#options.connection);
    const pooled: Pooled = {
      connection,
      messages: 0,
      busy: false,
      dead: false,
      idleTimer: null,
      ending: null,
    };
    let opened = false;
    let failed = false;
    const fail = (error: SMTPError) => {
      if (opened || failed) return;
      failed = true;
      this.#opening--;
      connection.close();
      this.#openFailed(error);
    };
    // Errors after the session is ready also reach the send callback; here they only retire it.
    connection.on("error", (error: SMTPError) => {
      if (!opened) return fail(error);
      pooled.dead = true;
    });
    connection.once("end", () => {
      if (!opened) return fail(closedError("Connection closed before the session was ready"));
      pooled.dead = true;
      this.#forget(pooled);
    });
    connection.connect((error) => {
      if (error) return fail(error);
      const ready = () => {
        if (failed) return;
        opened = true;
        this.#opening--;
        this.#downUntil = 0;
        this.#ready.add(pooled);
        this.#release(pooled);
      };
      // As nodemailer's pool does: credentials only where the server offers AUTH.
      if (!this.#options.auth || !connection.allowsAuth) return ready();
      connection.login(this.#options.auth, (loginError) => {
        if (loginError) return fail(loginError);
        ready();
      });
    });
  }

  #openFailed(error: SMTPError): void {
    const alive = this.#ready.size + this.#opening;
    if (alive > 0) {
      // Others are up or on their way: the host may only refuse more sessions (a 421 at the
      // greeting past its limit). Keep to what it takes for a while; messages wait for those.
      this.#cap = Math.max(1, alive);
      this.#capUntil = this.#now() + (this.#options.backoffMs ?? 30_000);
    } else {
      // Nothing works: the host is down for now, and every waiting message learns why.
      this.#downUntil = this.#now() + (this.#options.backoffMs ?? 30_000);
      for (const waiting of this.#queue.splice(0)) {
        waiting.resolve({ ok: false, phase: "connect", error });
      }
    }
    this.#pump();
  }

  #run(pooled: Pooled, waiting: Waiting): void {
    pooled.busy = true;
    this.#inFlight++;
    if (pooled.idleTimer) clearTimeout(pooled.idleTimer);
    let done = false;
    const finish = (result: SmtpResult, keep: "reuse" | "reset" | "retire") => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      this.#inFlight--;
      pooled.messages++;
      waiting.resolve(result);
      if (keep === "retire" || pooled.dead) void this.#retire(pooled, false);
      else if (keep === "reset") {
        pooled.connection.reset((error) => {
          if (error) void this.#retire(pooled, false);
          else this.#release(pooled);
        });
      } else this.#release(pooled);
      this.#pump();
    };
    const watchdog = setTimeout(() => {
      finish({
        ok: false,
        phase: "send",
        error: closedError("no final reply within the message time limit", "ETIMEDOUT"),
      }, "retire");
    }, this.#options.messageTimeoutMs);

    waiting.job.build().then((raw) => {
      if (done) return;
      if (pooled.dead || pooled.connection.destroyed) {
        // The server closed the connection while it was idle: nothing was written, so the
        // message goes back to the head of the queue for another connection.
        done = true;
        clearTimeout(watchdog);
        this.#inFlight--;
        this.#queue.unshift(waiting);
        void this.#retire(pooled, false);
        this.#pump();
        return;
      }
      pooled.connection.send({ ...waiting.job.envelope, size: raw.length }, raw, (error, info) => {
        if (!error) return finish({ ok: true, info: info! }, "reuse");
        // A refusal leaves the session usable (RSET and go on); anything else ends it.
        const refusal = (error.code === "EENVELOPE" || error.code === "EMESSAGE") &&
          error.responseCode !== 421;
        finish({ ok: false, phase: "send", error }, refusal ? "reset" : "retire");
      });
    }, (error: Error) => {
      finish({ ok: false, phase: "build", error }, "reuse");
    });
  }

  #release(pooled: Pooled): void {
    pooled.busy = false;
    if (pooled.dead) return this.#forget(pooled);
    if (pooled.messages >= this.#options.maxMessages || this.#closed && this.#queue.length === 0) {
      void this.#retire(pooled, true);
      return;
    }
    if (this.#queue.length > 0) {
      this.#run(pooled, this.#queue.shift()!);
      return;
    }
    pooled.idleTimer = setTimeout(() => {
      if (!pooled.busy) void this.#retire(pooled, true);
    }, this.#options.idleTimeoutMs ?? 30_000);
    pooled.idleTimer.unref?.();
  }

  #forget(pooled: Pooled): void {
    if (pooled.idleTimer) clearTimeout(pooled.idleTimer);
    if (this.#ready.delete(pooled)) this.#pump();
  }

  /** Ends a connection (QUIT when it is healthy) and resolves when it is gone. */
  #retire(pooled: Pooled, polite: boolean): Promise<void> {
    pooled.dead = true;
    this.#forget(pooled);
    if (pooled.ending) return pooled.ending;
    const connection = pooled.connection;
    if (connection.destroyed) return (pooled.ending = Promise.resolve());
    const ending = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        connection.close();
        resolve();
      }, 2_000);
      timer.unref?.();
      connection.once("end", () => {
        clearTimeout(timer);
        resolve();
      });
      if (polite) connection.quit();
      else connection.close();
    });
    pooled.ending = ending;
    this.#ending.add(ending);
    void ending.then(() => this.#ending.delete(ending));
    return ending;
  }
}
