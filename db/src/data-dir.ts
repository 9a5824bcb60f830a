// The embedded database's data directory on disk: owner-only permissions and a single-writer
// lock. PGlite is PostgreSQL in single-user mode inside one process, with none of the
// postmaster's protection: a second process opening the same directory keeps its own buffers,
// so its writes are lost (or overwrite the first's) and the files can be corrupted. PostgreSQL
// itself refuses with `postmaster.pid`; `sendgate.lock` does the same here.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

/** Who holds a data directory, as written in its lock file. */
export interface LockInfo {
  pid: number;
  hostname: string;
  /** What the holder runs (the script's name), to tell the user which process it is. */
  command: string;
  /** ISO time the lock was taken; with `pid`, tells this holder from an earlier one. */
  startedAt: string;
  /** Where a gateway holding the directory serves its API, once it listens. */
  url?: string;
  /** A credential for that API, for a command-line tool of the same user (the file is 0600). */
  token?: string;
}

/**
 * A held lock on a data directory. `release` is idempotent and also runs when the process exits
 * normally; a process killed by a signal leaves the file behind, and the next `lockDataDir`
 * finds its holder dead and takes it over.
 */
export interface DataDirLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Adds or replaces `url`/`token`; the file is replaced atomically, never seen half written. */
  update(extra: { url?: string; token?: string }): void;
  /** Removes the lock file if it is still this holder's. */
  release(): void;
}

/** The data directory is held by another live process (or already by this one). */
export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
  constructor(
    message: string,
    readonly dir: string,
    /** Null when the lock file could not be read yet (it is being written). */
    readonly holder: LockInfo | null,
  ) {
    super(message);
  }
}

export const lockFileName = "sendgate.lock";
const attempts = 5;
// A lock file is created empty and then written: a reader can see it between the two. One that
// is still unreadable after this long was left by a process that died in between.
const unreadableGraceMs = 5_000;

/**
 * The directory PGlite keeps its data in on this disk for a `dataDir` option, or null when it
 * keeps it elsewhere (in memory, or browser storage). Mirrors PGlite's own parsing of dataDir.
 */
export function onDiskDataDir(dataDir: string): string | null {
  if (dataDir.startsWith("file://")) return dataDir.slice("file://".length) || null;
  const elsewhere = ["memory://", "idb://", "opfs-ahp://", "memfs2opfs://"];
  if (!dataDir || elsewhere.some((scheme) => dataDir.startsWith(scheme))) return null;
  return dataDir;
}

/** Creates the data directory owner-only (0700), or takes group/other access away if it exists. */
export function prepareDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  if (!stat.isDirectory()) {
    throw new Error(`sendgate: the data directory ${dir} is not a directory`);
  }
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

/**
 * Makes everything under `dir` owner-only: files 0600, directories 0700; symbolic links are left
 * alone (their targets are not ours to change). PGlite sets its files' modes itself (0666) and
 * offers no hook on file creation, so this runs after it has opened the directory and again
 * after it has closed it. In between, files it creates may be loose, but the directory itself
 * stays 0700 throughout, and no other user can reach anything inside it.
 */
export function restrictPermissions(dir: string): void {
  chmodIfLoose(dir, 0o700);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    // PostgreSQL removes temporary directories as it goes.
    if (codeOf(error) === "ENOENT") return;
    throw error;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) restrictPermissions(full);
    else if (entry.isFile()) chmodIfLoose(full, 0o600);
  }
}

function chmodIfLoose(file: string, mode: number): void {
  try {
    if ((fs.lstatSync(file).mode & 0o777) !== mode) fs.chmodSync(file, mode);
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error;
  }
}

// Locks this process holds, by `pid|startedAt`: a lock file naming this pid is either one of
// these (the same process opening the directory twice) or left by an earlier process that had
// the same pid (a container restarted, where the gateway is pid 1 each time).
const held = new Set<string>();
const keyOf = (info: LockInfo) => `${info.pid}|${info.startedAt}`;

/**
 * Takes the single-writer lock on `dir` (which must exist): creates `dir/sendgate.lock`
 * exclusively, naming this process. If another live process on this host holds it, or one on
 * another host (a directory shared over the network, whose holder cannot be checked), or this
 * process already does (opening the same directory twice is a bug here too: the two handles
 * would corrupt it just the same), throws `DataDirLockedError`. A lock whose holder has exited
 * is taken over.
 */
export function lockDataDir(dir: string, info: { command: string }): DataDirLock {
  const lockPath = path.join(path.resolve(dir), lockFileName);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const mine: LockInfo = {
      pid: process.pid,
      hostname: os.hostname(),
      command: info.command,
      startedAt: new Date().toISOString(),
    };
    let fd: number;
    try {
      fd = fs.openSync(lockPath, "wx", 0o600);
    } catch (error) {
      if (codeOf(error) !== "EEXIST") throw error;
      const found = readLockFile(lockPath);
      if (found.state === "missing") continue;
      if (found.state === "unreadable") {
        if (Date.now() - found.mtimeMs < unreadableGraceMs) {
          throw new DataDirLockedError(
            `another process is locking the data directory ${dir} right now (${lockPath} ` +
              "is being written); if it is a gateway, use its API, or try again once it has stopped.",
            dir,
            null,
          );
        }
      } else {
        const refusal = refusalFor(dir, lockPath, found.info);
        if (refusal) throw refusal;
      }
      removeIfUnchanged(lockPath, found.raw);
      continue;
    }
    try {
      fs.writeFileSync(fd, JSON.stringify(mine));
    } finally {
      fs.closeSync(fd);
    }
    return heldLock(lockPath, mine);
  }
  throw new Error(
    `could not lock the data directory ${dir}: ${lockPath} kept reappearing ` +
      `(${attempts} attempts); is another process starting on it?`,
  );
}

/**
 * The holder of `dir`'s lock if it is alive on this host, else null: lets a command-line tool
 * talk to a running gateway (`url`, `token`) instead of opening the directory itself.
 */
export function readLock(dir: string): LockInfo | null {
  const found = readLockFile(path.join(path.resolve(dir), lockFileName));
  if (found.state !== "ok") return null;
  const { info } = found;
  if (info.hostname !== os.hostname()) return null;
  if (info.pid === process.pid) return held.has(keyOf(info)) ? info : null;
  return isAlive(info.pid) ? info : null;
}

/** Why `info`'s holder keeps us out, or null when its lock is stale. */
function refusalFor(dir: string, lockPath: string, info: LockInfo): DataDirLockedError | null {
  const since = `${info.command}, started ${info.startedAt}${
    info.url ? `, serving ${info.url}` : ""
  }`;
  if (info.hostname !== os.hostname()) {
    return new DataDirLockedError(
      `the data directory ${dir} is in use by process ${info.pid} on host ` +
        `${info.hostname} (${since}). It looks shared between machines (a network directory), ` +
        "which the embedded database cannot do safely; to share a database, use PostgreSQL " +
        `(DATABASE_URL). If nothing on ${info.hostname} uses it any more, remove ${lockPath}.`,
      dir,
      info,
    );
  }
  if (info.pid === process.pid) {
    if (!held.has(keyOf(info))) return null;
    return new DataDirLockedError(
      `this process already has the data directory ${dir} open (${since}); open it ` +
        "once and share that database: two handles in one process corrupt it like two processes.",
      dir,
      info,
    );
  }
  if (!isAlive(info.pid)) return null;
  const api = info.url
    ? `use that gateway's API at ${info.url} (\`npm run keys\` does so by itself)`
    : "if it is a running gateway, use its API (`npm run keys` does so by itself)";
  return new DataDirLockedError(
    `the data directory ${dir} is in use by process ${info.pid} (${since}). The ` +
      "embedded database allows one process at a time: a second one would lose its writes and " +
      `could corrupt the data. Stop process ${info.pid} first; or ${api}; or, to run several ` +
      "processes on one database, use PostgreSQL (set DATABASE_URL).",
    dir,
    info,
  );
}

function heldLock(lockPath: string, initial: LockInfo): DataDirLock {
  let info = initial;
  let released = false;
  const key = keyOf(initial);
  held.add(key);
  const release = () => {
    if (released) return;
    released = true;
    held.delete(key);
    process.off("exit", release);
    const found = readLockFile(lockPath);
    // Not ours any more (removed by hand and taken by another process): leave it to its holder.
    if (found.state === "ok" && keyOf(found.info) === key) removeIfUnchanged(lockPath, found.raw);
  };
  // Synchronous, so it also works from `process.exit()`; signals that kill the process skip it.
  process.on("exit", release);
  return {
    path: lockPath,
    get info() {
      return info;
    },
    update(extra) {
      if (released) throw new Error(`sendgate: ${lockPath} was released`);
      const found = readLockFile(lockPath);
      if (found.state !== "ok" || keyOf(found.info) !== key) {
        throw new Error(`sendgate: ${lockPath} is no longer held by this process`);
      }
      const next = { ...info, ...extra };
      // Written beside it and renamed over it: a reader sees the old content or the new, whole.
      const temp = `${lockPath}.${process.pid}.tmp`;
      fs.rmSync(temp, { force: true });
      fs.writeFileSync(temp, JSON.stringify(next), { flag: "wx", mode: 0o600 });
      fs.renameSync(temp, lockPath);
      info = next;
    },
    release,
  };
}

type LockFile =
  | { state: "ok"; info: LockInfo; raw: string }
  | { state: "unreadable"; mtimeMs: number; raw: string }
  | { state: "missing" };

function readLockFile(lockPath: string): LockFile {
  let raw: string;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(lockPath).mtimeMs;
    raw = fs.readFileSync(lockPath, "utf8");
  } catch (error) {
    if (codeOf(error) === "ENOENT") return { state: "missing" };
    throw error;
  }
  const info = parseLockInfo(raw);
  return info ? { state: "ok", info, raw } : { state: "unreadable", mtimeMs, raw };
}

function parseLockInfo(raw: string): LockInfo | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (
    !Number.isSafeInteger(v.pid) || (v.pid as number) <= 0 || typeof v.hostname !== "string" ||
    typeof v.command !== "string" || typeof v.startedAt !== "string"
  ) return null;
  return {
    pid: v.pid as number,
    hostname: v.hostname,
    command: v.command,
    startedAt: v.startedAt,
    ...(typeof v.url === "string" ? { url: v.url } : {}),
    ...(typeof v.token === "string" ? { token: v.token } : {}),
  };
}

// Removes a stale lock only if it still holds what was judged stale: two processes taking over
// the same stale lock must not remove the new lock the quicker one has just written. (A window
// of a few microseconds remains between the read and the unlink, as with PostgreSQL's own.)
function removeIfUnchanged(lockPath: string, raw: string): void {
  try {
    if (fs.readFileSync(lockPath, "utf8") === raw) fs.unlinkSync(lockPath);
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error;
  }
}

/** Whether `pid` is a live process on this host; EPERM means alive, but another user's. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) === "EPERM";
  }
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}
