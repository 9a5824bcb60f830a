import type { ChannelAdapter, OutgoingMessage, SendOutcome } from "../channel.ts";
import { EMAIL_DEFAULTS, type EmailChannelConfig } from "./config.ts";
import { createMessageBuilder } from "./message.ts";
import { networkOutcome } from "./outcome.ts";
import { createRouter } from "./routing.ts";

export type {
  DkimKey,
  EmailChannelConfig,
  EmailRouting,
  SmtpRelay,
  SmtpTimeouts,
} from "./config.ts";
export type { MxRecord, MxResolver } from "./mx.ts";

/**
 * The email channel (DOMAIN §10, synchronous side): one MIME message per recipient, personalized
 * and signed, sent through a relay or straight to the recipient domain's MX, each message's
 * fate returned as an outcome for the core to qualify.
 */
export function createEmailChannel(config: EmailChannelConfig): ChannelAdapter {
  const builder = createMessageBuilder({
    tokenSecret: config.tokenSecret,
    bounceDomain: config.bounceDomain,
    bouncePrefix: config.bouncePrefix ?? EMAIL_DEFAULTS.bouncePrefix,
    messageIdDomain: config.messageIdDomain ?? config.bounceDomain,
    ...(config.unsubscribeBaseUrl ? { unsubscribeBaseUrl: config.unsubscribeBaseUrl } : {}),
    ...(config.dkim ? { dkim: config.dkim } : {}),
    templateCacheSize: config.templateCacheSize ?? EMAIL_DEFAULTS.templateCacheSize,
  });
  const router = createRouter(config);
  // Messages in preparation or in flight per batch: enough to keep every connection busy (one
  // sending, one ready behind it), few enough that a batch never holds all its bodies at once.
  const concurrency = config.mode === "relay"
    ? 2 * (config.relay.maxConnections ?? EMAIL_DEFAULTS.relayMaxConnections)
    : config.maxConcurrentMessages ?? EMAIL_DEFAULTS.maxConcurrentMessages;

  async function sendOne(message: OutgoingMessage): Promise<SendOutcome> {
    try {
      const prepared = builder.prepare(message);
      if (!prepared.ok) return prepared.outcome;
      return await router.deliver(prepared.message);
    } catch (error) {
      // A bug of ours, not the message's fate; still one outcome for this message, so the
      // batch's other outcomes (messages already sent) are not lost with it.
      return networkOutcome("EINTERNAL", String((error as Error)?.message ?? error).slice(0, 200));
    }
  }

  return {
    channel: "email",
    async send(batch) {
      const outcomes = new Array<SendOutcome>(batch.length);
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const i = next++;
          outcomes[i] = await sendOne(batch[i]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
      return outcomes;
    },
    close: () => router.close(),
  };
}
