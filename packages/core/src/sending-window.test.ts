import { describe, expect, it } from "vitest";
import { sendingWindowError, windowState } from "./sending-window.ts";

const weekdays = { timeZone: "Europe/Paris", days: [1, 2, 3, 4, 5, 6], from: "08:00", to: "20:00" };

describe("sending window", () => {
  it("opens 08:00-20:00 Paris time, Monday to Saturday", () => {
    // Wednesday 2026-12-02, 10:00 in Paris (UTC+1) is 09:00 UTC.
    expect(windowState(weekdays, Date.UTC(2026, 11, 2, 9, 0))).toEqual({ open: true });
    // 20:30 Paris: closed until Thursday 08:00 Paris = 07:00 UTC.
    expect(windowState(weekdays, Date.UTC(2026, 11, 2, 19, 30))).toEqual({
      open: false,
      opensAt: Date.UTC(2026, 11, 3, 7, 0),
    });
    // Sunday 2026-12-06 noon: closed until Monday 08:00.
    expect(windowState(weekdays, Date.UTC(2026, 11, 6, 11, 0))).toEqual({
      open: false,
      opensAt: Date.UTC(2026, 11, 7, 7, 0),
    });
  });

  it("follows daylight saving time", () => {
    // 2026-07-01 is summer time (UTC+2): 08:00 Paris is 06:00 UTC.
    expect(windowState(weekdays, Date.UTC(2026, 6, 1, 5, 59)).open).toBe(false);
    expect(windowState(weekdays, Date.UTC(2026, 6, 1, 6, 0)).open).toBe(true);
  });

  it("spans midnight when from is after to", () => {
    const night = { timeZone: "UTC", days: [5], from: "22:00", to: "06:00" };
    // Friday 2026-12-04 23:00 and Saturday 05:00 belong to Friday's night.
    expect(windowState(night, Date.UTC(2026, 11, 4, 23, 0)).open).toBe(true);
    expect(windowState(night, Date.UTC(2026, 11, 5, 5, 0)).open).toBe(true);
    expect(windowState(night, Date.UTC(2026, 11, 5, 23, 0)).open).toBe(false);
  });

  it("names what is wrong with a window", () => {
    expect(sendingWindowError({ ...weekdays, timeZone: "Mars/Olympus" })).toMatch(/time zone/u);
    expect(sendingWindowError({ ...weekdays, days: [0] })).toMatch(/days/u);
    expect(sendingWindowError({ ...weekdays, from: "8:00" })).toMatch(/HH:MM/u);
    expect(sendingWindowError(weekdays)).toBeNull();
  });
});
