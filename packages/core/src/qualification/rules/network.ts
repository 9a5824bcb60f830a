import { channels } from "../../channel.ts";
import { FailureType, Reason } from "../../failure.ts";
import type { Rule } from "../types.ts";

/**
 * The last word on transport failures before any protocol answer (`NET <code> <text>`): whatever
 * a channel's own rules did not place — timeouts, refusals, resets, TLS, DNS server failures — is
 * ours or the network's: ignored 3, retried, never counted. (Email's own rules come first and
 * read an unresolvable recipient domain as soft 2.)
 */
export const networkRules: readonly Rule[] = channels.map((channel): Rule => ({
  id: `${channel}-net-connection`,
  channel,
  pattern: "^NET ",
  regex: true,
  type: FailureType.ignored,
  reason: Reason.unreachable,
  note: "timeout, refused or dropped connection, TLS or DNS server failure",
}));
