import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DataDirLockedError,
  lockDataDir,
  lockFileName,
  onDiskDataDir,
  prepareDataDir,
  readLock,
  restrictPermissions,
} from "./data-dir.ts";
import { migrate, openDatabase } from "./index.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
let root = "";
let dir = "";
const children: ChildProcess[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "sendgate-data-dir-"));
  dir = path.join(root, "data");
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  fs.rmSync(root, { recursive: true, force: true });
});

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const lockPath = () => path.join(dir, lockFileName);
const writeLock = (info: object) => fs.writeFileSync(lockPath(), JSON.stringify(info));
/** The pid of a process that has exited (pids are not reused this quickly). */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;
/** Everything under `top` (itself included) that group or other can access. */
function looseEntries(top: string): string[] {
  const stat = fs.lstatSync(top);
  if (stat.isSymbolicLink()) return [];
  const here = (stat.mode & 0o077) === 0 ? [] : [`${top} ${(stat.mode & 0o777).toString(8)}`];
  if (!stat.isDirectory()) return here;
  return [...here, ...fs.readdirSync(top).flatMap((name) => looseEntries(path.join(top, name)))];
}

describe("onDiskDataDir", () => {
  it("follows PGlite: memory and browser storage are not directories, file:// is", () => {
    expect(onDiskDataDir("memory://")).toBeNull();
    expect(onDiskDataDir("memory://named")).toBeNull();
    expect(onDiskDataDir("idb://x")).toBeNull();
    expect(onDiskDataDir("")).toBeNull();
    expect(onDiskDataDir("file:///srv/data")).toBe("/srv/data");
    expect(onDiskDataDir("./data")).toBe("./data");
  });
});

describe("prepareDataDir and restrictPermissions", () => {
  it("creates the directory, with its parents, owner-only", () => {
    const nested = path.join(dir, "a", "b");
    prepareDataDir(nested);
    expect(modeOf(nested)).toBe(0o700);
  });

  it("takes group and other access away from an existing directory", () => {
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o775);
    prepareDataDir(dir);
    expect(modeOf(dir)).toBe(0o700);
  });

  it("makes files 0600 and directories 0700, leaving symbolic links and their targets", () => {
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "sub", "f"), "x");
    fs.chmodSync(path.join(dir, "sub", "f"), 0o666);
    fs.chmodSync(path.join(dir, "sub"), 0o777);
    const outside = path.join(root, "outside");
    fs.writeFileSync(outside, "x");
    fs.chmodSync(outside, 0o644);
    fs.symlinkSync(outside, path.join(dir, "link"));
    restrictPermissions(dir);
    expect(modeOf(path.join(dir, "sub"))).toBe(0o700);
    expect(modeOf(path.join(dir, "sub", "f"))).toBe(0o600);
    expect(modeOf(outside)).toBe(0o644);
  });
});

describe("lockDataDir", () => {
  beforeEach(() => prepareDataDir(dir));

  it("writes who holds it, owner-only, and removes it on release", () => {
    const listeners = process.listenerCount("exit");
    const lock = lockDataDir(dir, { command: "test" });
    expect(lock.path).toBe(path.join(path.resolve(dir), lockFileName));
    expect(modeOf(lock.path)).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(lock.path, "utf8"))).toEqual({
      pid: process.pid,
      hostname: os.hostname(),
      command: "test",
      startedAt: lock.info.startedAt,
    });
    expect(process.listenerCount("exit")).toBe(listeners + 1);
    lock.release();
    lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);
    expect(process.listenerCount("exit")).toBe(listeners);
    lockDataDir(dir, { command: "again" }).release();
  });

  it("refuses a second lock in the same process, and keeps the first", () => {
    const lock = lockDataDir(dir, { command: "first" });
    const content = fs.readFileSync(lock.path, "utf8");
    let error: unknown;
    try {
      lockDataDir(dir, { command: "second" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).holder).toEqual(lock.info);
    expect((error as Error).message).toContain("this process already has");
    expect(fs.readFileSync(lock.path, "utf8")).toBe(content);
    lock.release();
  });

  it("takes over a lock whose holder has exited", () => {
    writeLock({
      pid: deadPid(),
      hostname: os.hostname(),
      command: "crashed",
      startedAt: "2020-01-01T00:00:00.000Z",
    });
    const lock = lockDataDir(dir, { command: "test" });
    expect(JSON.parse(fs.readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over a lock an earlier process with this pid left behind", () => {
    writeLock({
      pid: process.pid,
      hostname: os.hostname(),
      command: "previous container",
      startedAt: "2020-01-01T00:00:00.000Z",
    });
    const lock = lockDataDir(dir, { command: "test" });
    expect(lock.info.startedAt).not.toBe("2020-01-01T00:00:00.000Z");
    lock.release();
  });

  it("refuses a lock held from another host, naming it", () => {
    writeLock({ pid: 1, hostname: "elsewhere", command: "main.ts", startedAt: "2020-01-01" });
    expect(() => lockDataDir(dir, { command: "test" })).toThrow(
      /process 1 on host elsewhere[^]*network directory[^]*DATABASE_URL/u,
    );
    expect(readLock(dir)).toBeNull();
  });

  it("waits for a lock file being written, and takes over one left half written", () => {
    fs.writeFileSync(lockPath(), "");
    expect(() => lockDataDir(dir, { command: "test" })).toThrow(DataDirLockedError);
    const aMinuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(lockPath(), aMinuteAgo, aMinuteAgo);
    lockDataDir(dir, { command: "test" }).release();
  });

  it("updates url and token atomically, keeping the file owner-only", () => {
    const lock = lockDataDir(dir, { command: "main.ts" });
    lock.update({ url: "http://127.0.0.1:8080", token: "secret" });
    expect(modeOf(lock.path)).toBe(0o600);
    const expected = { ...lock.info, url: "http://127.0.0.1:8080", token: "secret" };
    expect(lock.info).toEqual(expected);
    expect(JSON.parse(fs.readFileSync(lock.path, "utf8"))).toEqual(expected);
    expect(readLock(dir)).toEqual(expected);
    expect(fs.readdirSync(dir)).toEqual([lockFileName]);
    lock.release();
    expect(readLock(dir)).toBeNull();
    expect(() => lock.update({ url: "http://x" })).toThrow(/released/u);
  });

  it("leaves a lock file that is no longer its own on release", () => {
    const lock = lockDataDir(dir, { command: "test" });
    const other = { pid: 1, hostname: os.hostname(), command: "other", startedAt: "2020" };
    writeLock(other);
    expect(() => lock.update({ url: "http://x" })).toThrow(/no longer held/u);
    lock.release();
    expect(JSON.parse(fs.readFileSync(lockPath(), "utf8"))).toEqual(other);
  });

  it("reads no holder when there is none or it has exited", () => {
    expect(readLock(dir)).toBeNull();
    writeLock({ pid: deadPid(), hostname: os.hostname(), command: "x", startedAt: "2020" });
    expect(readLock(dir)).toBeNull();
  });
});

describe("openDatabase on PGlite on disk", () => {
  // A second process holding the directory through openDatabase, until SIGTERM (or SIGKILL).
  async function startHolder(): Promise<ChildProcess> {
    const script = path.join(root, "holder.mts");
    fs.writeFileSync(
      script,
      `import process from "node:process";
import { openDatabase } from ${
        JSON.stringify(pathToFileURL(path.join(repoRoot, "db/src/index.ts")).href)
      };
const database = await openDatabase({ dataDir: process.argv[2], command: "holder.mts" });
database.lock.update({ url: "http://127.0.0.1:9" });
process.on("SIGTERM", () => void database.close().then(() => process.exit(0)));
setInterval(() => {}, 60_000);
console.log("ready");
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, dir], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("ready")) resolve();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`holder exited (${code}):\n${output}`)));
    });
    return child;
  }
  const exited = (child: ChildProcess) => new Promise((resolve) => child.once("exit", resolve));

  it("refuses a directory another live process has open, naming it", async () => {
    const child = await startHolder();
    const error = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).holder).toMatchObject({
      pid: child.pid,
      command: "holder.mts",
    });
    const message = (error as Error).message;
    expect(message).toContain(`process ${child.pid} (holder.mts, started `);
    expect(message).toContain("use that gateway's API at http://127.0.0.1:9");
    expect(message).toContain("DATABASE_URL");
    expect(readLock(dir)).toMatchObject({ pid: child.pid, url: "http://127.0.0.1:9" });

    // Once the holder has closed, the directory is free again.
    child.kill("SIGTERM");
    await exited(child);
    expect(fs.existsSync(lockPath())).toBe(false);
    const database = await openDatabase({ dataDir: dir });
    expect(database.lock?.info.pid).toBe(process.pid);
    await database.close();
  }, 90_000);

  it("takes over from a holder that was killed", async () => {
    const child = await startHolder();
    child.kill("SIGKILL");
    await exited(child);
    expect(JSON.parse(fs.readFileSync(lockPath(), "utf8")).pid).toBe(child.pid);
    const database = await openDatabase({ dataDir: dir });
    expect(database.lock?.info.pid).toBe(process.pid);
    await database.close();
  }, 90_000);

  it("keeps the data owner-only, and still works after reopening", async () => {
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const database = await openDatabase({ dataDir: dir, command: "test" });
    expect(database.lock?.info.command).toBe("test");
    await migrate(database);
    expect(modeOf(dir)).toBe(0o700);
    expect(looseEntries(dir)).toEqual([]);
    await database.close();
    expect(looseEntries(dir)).toEqual([]);
    expect(fs.existsSync(lockPath())).toBe(false);

    const again = await openDatabase({ dataDir: dir });
    await migrate(again);
    await again.rows(sql`create table probe (n int)`);
    await again.rows(sql`insert into probe values (42)`);
    expect(await again.rows(sql`select n from probe`)).toEqual([{ n: 42 }]);
    await again.close();
    expect(looseEntries(dir)).toEqual([]);
  }, 90_000);

  it("releases the lock when PGlite cannot open the directory", async () => {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "PG_VERSION"), "7\n");
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow();
    expect(fs.existsSync(lockPath())).toBe(false);
  }, 60_000);

  it("locks nothing in memory", async () => {
    const database = await openDatabase({ dataDir: "memory://" });
    expect(database.lock).toBeUndefined();
    await database.close();
  });
});
