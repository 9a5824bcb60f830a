import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { compileRules, defaultRuleSet } from "@sendgate/core";
import { parseBounce, type QualifiedRecipient, qualifyBounce } from "@sendgate/channels";

/**
 * Scores the bounce parser and the shipped rules on the labelled corpus
 * (`../shared/corpus/bounces`), as its README says: the coarse reason (our reason code in the set
 * accepted for Sisimai's label) and the "quarantine now" decisions (type hard).
 */
export const CORPUS = new URL("../../../shared/corpus/bounces/", import.meta.url);

/** sisimai_reason → reason codes accepted; "ignored" for any reason of type ignored. */
const ACCEPTED: Record<string, readonly number[] | "ignored"> = {
  userunknown: [1],
  hasmoved: [1],
  hostunknown: [2],
  notaccept: [2],
  mailboxfull: [5],
  suspend: [4],
  filtered: [1, 4, 20],
  norelaying: [20, 3],
  expired: [3],
  systemerror: [3],
  toomanyconn: [3],
  networkerror: [3, 2],
  systemfull: [3, 5],
  speeding: [3, 20],
  vacation: "ignored",
  feedback: [8],
};
for (
  const r of [
    "rejected",
    "blocked",
    "spamdetected",
    "virusdetected",
    "contenterror",
    "policyviolation",
    "securityerror",
    "authfailure",
    "badreputation",
    "requireptr",
    "notcompliantrfc",
    "mesgtoobig",
  ]
) ACCEPTED[r] = [20];

const ADDRESS_ERRORS = new Set(["userunknown", "hasmoved", "hostunknown", "notaccept", "suspend"]);
const USER_UNKNOWN = new Set(["userunknown", "hasmoved"]);

export interface Label {
  file: string;
  index: number;
  reason: string;
}

export interface Miss {
  file: string;
  index: number;
  label: string;
  got: string;
  text: string | null;
}

export interface Score {
  scored: number;
  right: number;
  /** Right / scored. */
  coarse: number;
  hard: number;
  hardRight: number;
  /** Of our hard decisions (complaints aside), those Sisimai calls an address error. */
  precision: number;
  unknownUsers: number;
  unknownUsersHard: number;
  /** Of Sisimai's user-unknown labels, those we call hard. */
  recall: number;
  misses: Miss[];
  wrongHard: Miss[];
  /** Files in which the parser found no recipient. */
  empty: string[];
}

export async function readLabels(): Promise<Label[]> {
  const text = await readFile(new URL("labels.csv", CORPUS), "utf8");
  return text.trim().split(/\r?\n/u).slice(1).map((line) => {
    const [file, index, , , reason] = line.split(",");
    return { file: file!, index: Number(index), reason: reason! };
  });
}

/** Parses and qualifies every file of the corpus (what `npm run qualify` prints, by file). */
export async function qualifyCorpus(): Promise<Map<string, QualifiedRecipient[]>> {
  const rules = compileRules(defaultRuleSet);
  const dir = new URL("emails/", CORPUS);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".eml")).sort();
  const out = new Map<string, QualifiedRecipient[]>();
  for (const file of files) {
    const raw = await readFile(join(dir.pathname, file));
    out.set(file, qualifyBounce(rules, await parseBounce(raw)));
  }
  return out;
}

export function score(labels: readonly Label[], got: Map<string, QualifiedRecipient[]>): Score {
  let scored = 0, right = 0, hard = 0, hardRight = 0, unknownUsers = 0, unknownUsersHard = 0;
  const misses: Miss[] = [];
  const wrongHard: Miss[] = [];
  for (const l of labels) {
    const ours = got.get(l.file)?.find((r) => r.index === l.index) ?? null;
    const miss = (): Miss => ({
      file: l.file,
      index: l.index,
      label: l.reason,
      got: ours ? `${ours.type} ${ours.reason} (${ours.action})` : "nothing",
      text: ours ? [ours.status, ours.diagnostic].filter(Boolean).join(" ") : null,
    });
    const accepted = ACCEPTED[l.reason];
    if (accepted) {
      scored++;
      const ok = ours !== null && ours.reason !== null &&
        (accepted === "ignored" ? ours.type === "ignored" : accepted.includes(ours.reason));
      if (ok) right++;
      else misses.push(miss());
    }
    if (ours?.type === "hard" && ours.action !== "complaint") {
      hard++;
      if (ADDRESS_ERRORS.has(l.reason)) hardRight++;
      else wrongHard.push(miss());
    }
    if (USER_UNKNOWN.has(l.reason)) {
      unknownUsers++;
      if (ours?.type === "hard") unknownUsersHard++;
    }
  }
  const empty = [...got].filter(([, rs]) => rs.length === 0).map(([f]) => f);
  return {
    scored,
    right,
    coarse: scored ? right / scored : 0,
    hard,
    hardRight,
    precision: hard ? hardRight / hard : 1,
    unknownUsers,
    unknownUsersHard,
    recall: unknownUsers ? unknownUsersHard / unknownUsers : 1,
    misses,
    wrongHard,
    empty,
  };
}

/** The floors the README states: "Bounce corpus floors: coarse reason X %, … precision Y %, recall Z %". */
export function floorsFrom(readme: string): { coarse: number; precision: number; recall: number } {
  const m =
    /Bounce corpus floors: coarse reason (\d+(?:\.\d+)?) %, quarantine-now precision (\d+(?:\.\d+)?) %, recall (\d+(?:\.\d+)?) %/u
      .exec(readme.replace(/\s+/gu, " "));
  if (!m) throw new Error("the README states no bounce corpus floors");
  return { coarse: Number(m[1]) / 100, precision: Number(m[2]) / 100, recall: Number(m[3]) / 100 };
}
