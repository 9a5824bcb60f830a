import webpush from "web-push";

/** A new VAPID key pair (P-256, base64url), as the push channel and browsers expect it. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
