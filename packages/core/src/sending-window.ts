/**
 * A delivery's sending window: the days and hours, in a time zone, when it may send (commercial
 * SMS only 08:00–20:00 Monday to Saturday, say). Outside it, messages wait for the next opening.
 * Pure: the clock comes in as `now` (epoch ms); the time zone is read with `Intl`.
 */
export interface SendingWindow {
  /** IANA time zone, e.g. `Europe/Paris`. */
  readonly timeZone: string;
  /** ISO days of the week it may send: 1 Monday … 7 Sunday. */
  readonly days: readonly number[];
  /** `HH:MM`, inclusive; `to` exclusive. `from` after `to` spans midnight (22:00–06:00). */
  readonly from: string;
  readonly to: string;
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(":").map(Number);
  return h! * 60 + m!;
};

/** Why a window is unusable, or null. */
export function sendingWindowError(w: SendingWindow): string | null {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: w.timeZone });
  } catch {
    return `unknown time zone ${w.timeZone}`;
  }
  if (w.days.length === 0 || w.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    return "days are 1 (Monday) to 7 (Sunday), at least one";
  }
  for (const t of [w.from, w.to]) {
    if (!/^(?:[01]\d|2[0-3]):[0-5]\d$/u.test(t)) return `${t} is not HH:MM`;
  }
  if (w.from === w.to) return "from and to are the same time";
  return null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local ISO weekday and minute of the day at `at` in `timeZone`. */
function local(at: number, timeZone: string): { day: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday")) + 1;
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

function openAt(w: SendingWindow, at: number): boolean {
  const { day, minute } = local(at, w.timeZone);
  const from = minutes(w.from);
  const to = minutes(w.to);
  if (from < to) return w.days.includes(day) && minute >= from && minute < to;
  // Across midnight: the evening belongs to its day, the small hours to the day before.
  if (minute >= from) return w.days.includes(day);
  if (minute < to) return w.days.includes(day === 1 ? 7 : day - 1);
  return false;
}

export type WindowState = { open: true } | { open: false; opensAt: number | null };

/**
 * Whether the window is open at `now`, else when it next opens (to the minute, searched up to 8
 * days ahead; null if never, which `sendingWindowError` rules out).
 */
export function windowState(w: SendingWindow, now: number): WindowState {
  if (openAt(w, now)) return { open: true };
  const start = Math.floor(now / 60_000) * 60_000 + 60_000;
  // Minute steps would be 11,520 checks; jump by a quarter hour, then refine to the minute.
  for (let t = start; t < now + 8 * 86_400_000; t += 15 * 60_000) {
    if (openAt(w, t)) {
      let first = t;
      for (let m = t - 14 * 60_000; m < t; m += 60_000) {
        if (m >= start && openAt(w, m)) {
          first = m;
          break;
        }
      }
      return { open: false, opensAt: first };
    }
  }
  return { open: false, opensAt: null };
}
