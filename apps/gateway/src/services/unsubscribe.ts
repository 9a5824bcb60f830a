import { eq } from "drizzle-orm";
import { parseMessageToken } from "@sendgate/channels";
import { AddressStatus, MessageStatus } from "@sendgate/core";
import { deliveries, execute, messages, plans } from "@sendgate/db";
import type { AppDeps } from "../deps.ts";
import { loadChannelSettings } from "./channel-settings.ts";
import { ServiceError } from "./errors.ts";
import { getEntry, setStatus } from "./quarantine.ts";

/**
 * A recipient's one-click unsubscription (RFC 8058: `List-Unsubscribe-Post:
 * List-Unsubscribe=One-Click` points here): the token names the message, its MAC proves the
 * gateway made it; the address goes on the suppression list of the instance that sent the
 * message (DOMAIN §7: a recipient's decision binds that customer only), and the message gets an
 * event the status feed will carry. Answering the same token twice changes nothing more.
 */
export async function unsubscribe(deps: AppDeps, token: string): Promise<{ address: string }> {
  const email = (await loadChannelSettings(deps.database)).find((c) => c.channel === "email");
  const id = email ? parseMessageToken(token, email.secrets.tokenSecret) : null;
  if (id === null) throw new ServiceError("notFound", "this unsubscribe link is not valid");
  const [row] = await deps.database.db.select({
    id: messages.id,
    address: messages.address,
    status: messages.status,
    instanceId: deliveries.instanceId,
  }).from(messages).innerJoin(deliveries, eq(deliveries.id, messages.deliveryId))
    .where(eq(messages.id, id));
  if (!row?.address) throw new ServiceError("notFound", "this unsubscribe link is not valid");
  const before = await getEntry(deps, "email", row.address, row.instanceId).catch(() => null);
  await setStatus(
    deps,
    "email",
    row.address,
    { status: AddressStatus.denylisted, comment: "unsubscribed (List-Unsubscribe)" },
    row.instanceId,
  );
  if (before?.status !== AddressStatus.denylisted) {
    await execute(
      deps.database,
      plans.insertEvents([{
        messageId: row.id,
        event: "unsubscribed",
        status: row.status as MessageStatus,
        failureType: null,
        reason: null,
        text: "List-Unsubscribe one-click",
        detail: null,
      }], new Date(deps.now()).toISOString()),
    );
  }
  return { address: row.address };
}
