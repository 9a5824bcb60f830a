// `npm run keys -- create --instance NAME [--operator]` prints a new API key (shown once);
// `list [--instance NAME]` and `revoke ID` manage them. On the embedded database, when a gateway
// holds the data directory, the command goes through that gateway's API (the directory's lock
// file says where it listens and holds a token for its key routes): a second process must never
// write the directory. Otherwise it opens the database itself.
import process from "node:process";
import { parseArgs } from "node:util";
import { DataDirLockedError, migrate, openDatabase, readLock } from "@sendgate/db";
import { loadConfig } from "./config.ts";
import { createKey, type KeyView, listKeys, revokeKey } from "./services/keys.ts";

const usage = `usage: npm run keys -- create --instance NAME [--operator]
       npm run keys -- list [--instance NAME]
       npm run keys -- revoke ID`;
const fail = (message: string, code = 1): never => {
  console.error(message);
  process.exit(code);
};

const { positionals, values } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { instance: { type: "string" }, operator: { type: "boolean", default: false } },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n${usage}`, 2);
  }
})();
const [command, id] = positionals;
if (
  !(command === "create" && values.instance) && command !== "list" && !(command === "revoke" && id)
) {
  fail(usage, 2);
}

type NewKey = KeyView & { key: string };
interface Keys {
  create(instance: string, operator: boolean): Promise<NewKey>;
  list(instance: string | undefined): Promise<KeyView[]>;
  revoke(id: string): Promise<KeyView>;
  close(): Promise<void>;
  where: string;
}

/** The running gateway's key routes. */
function viaGateway(url: string, token: string): Keys {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((error: Error) => fail(`the gateway at ${url} does not answer: ${error.message}`));
    const answer = await res.json() as T & { detail?: string };
    if (!res.ok) fail(`the gateway refused: ${answer.detail ?? res.status}`);
    return answer;
  };
  return {
    where: `the running gateway (${url})`,
    create: (instance, operator) => call("POST", "/v1/keys", { instance, operator }),
    list: async (instance) =>
      (await call<{ items: KeyView[] }>(
        "GET",
        `/v1/keys${instance ? `?instance=${encodeURIComponent(instance)}` : ""}`,
      )).items,
    revoke: (id) => call("DELETE", `/v1/keys/${encodeURIComponent(id)}`),
    close: async () => {},
  };
}

/** The database itself (PostgreSQL, or an embedded directory no process holds). */
async function direct(config: ReturnType<typeof loadConfig>): Promise<Keys> {
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    command: `keys ${command}`,
  }).catch((error: unknown) =>
    fail(error instanceof DataDirLockedError ? error.message : `cannot open the database: ${error}`)
  );
  await migrate(database);
  return {
    where: config.databaseUrl ? "PostgreSQL" : config.dataDir,
    create: async (instance, operator) => {
      const { instanceId: _, ...created } = await createKey(database, instance, operator);
      return created;
    },
    list: async (instance) => (await listKeys(database, { instance })).items,
    revoke: (id) => revokeKey(database, id, Date.now()),
    close: () => database.close(),
  };
}

const config = loadConfig();
const holder = config.databaseUrl ? null : readLock(config.dataDir);
const keys = holder?.url && holder.token
  ? viaGateway(holder.url, holder.token)
  : await direct(config);
try {
  if (command === "create") {
    const created = await keys.create(values.instance!, values.operator ?? false);
    console.error(
      `created ${
        created.operator ? "operator" : "instance"
      } key ${created.prefix}… (id ${created.id}) ` +
        `for instance "${created.instance}" through ${keys.where}; shown once, stored hashed:`,
    );
    console.log(created.key);
  } else if (command === "list") {
    for (const k of await keys.list(values.instance)) {
      console.log(
        [
          k.id,
          k.instance,
          `${k.prefix}…`,
          k.operator ? "operator" : "instance",
          k.createdAt,
          k.revokedAt ? `revoked ${k.revokedAt}` : "active",
        ].join("\t"),
      );
    }
  } else {
    const revoked = await keys.revoke(id!);
    console.error(
      `revoked key ${revoked.prefix}… of instance "${revoked.instance}" (${revoked.revokedAt})`,
    );
  }
} catch (error) {
  fail(`sendgate keys: ${(error as Error).message}`);
} finally {
  await keys.close();
}
