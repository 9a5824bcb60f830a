/** The three delivery channels. One quarantine table serves them all (DOMAIN §7). */
export const Channel = { email: "email", sms: "sms", push: "push" } as const;
export type Channel = typeof Channel[keyof typeof Channel];
export const channels: readonly Channel[] = Object.values(Channel);
