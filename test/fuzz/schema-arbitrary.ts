import fc from "fast-check";
import { BOUNDARY_NUMBERS, dirtyString, EDGE_DATE_TIMES } from "./hostile.ts";
import { type OpenApiDocument, patternOf, resolve, type Schema } from "./openapi.ts";

/**
 * Where values a schema alone cannot invent come from: `byName("address")` gives realistic
 * addresses, ids the fixtures hold, values earlier answers carried. A schema says "string"; the
 * gateway needs a real email address to get past preparation, so without hints most cases would
 * stop at the first check.
 */
export interface Hints {
  /**
   * The arbitrary for a property named `name`, given the one its schema alone makes and a check
   * of the schema (a harvested value of another shape is not offered as valid).
   */
  byName(
    name: string,
    plain: fc.Arbitrary<unknown>,
    accepts: (v: unknown) => boolean,
    schema: Schema,
  ): fc.Arbitrary<unknown>;
  /** Keys for a map (`additionalProperties`) under this property. */
  keysFor(name: string): fc.Arbitrary<string> | null;
  /**
   * Objects the gateway answered with. An object being generated takes the values of the fields
   * it shares with one of them, all at once: fields that must agree (a rule's type and reason,
   * an entry's channel and text) then agree, as they do in real requests.
   */
  donors(): readonly Record<string, unknown>[];
}

export const noHints: Hints = {
  byName: (_, plain) => plain,
  keysFor: () => null,
  donors: () => [],
};

/** Strings past which generation stops copying a schema's maxLength: a 2 MB field is one case. */
const LONGEST = 10_000;

/**
 * Values for a JSON Schema, mostly valid. "Valid" here is the schema's word, and the schema is
 * often wider than the database: an unbounded integer gets 2^31, a string gets NUL bytes and lone
 * surrogates, a date-time gets year 0000. Those are the values a validating gateway must still
 * answer well, so they belong to the valid side.
 */
export function schemaArbitrary(
  doc: OpenApiDocument,
  schema: Schema,
  hints: Hints = noHints,
  name = "",
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  const plain = typed(doc, s, hints, name, depth);
  if (!name || s.enum || s.const !== undefined || s.oneOf || s.anyOf) return plain;
  return hints.byName(name, plain, (v) => accepts(doc, s, v), s);
}

function typed(
  doc: OpenApiDocument,
  s: Schema,
  hints: Hints,
  name: string,
  depth: number,
): fc.Arbitrary<unknown> {
  if (depth > 12) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives?.length) {
    return fc.oneof(...alternatives.map((a) => schemaArbitrary(doc, a, hints, name, depth + 1)));
  }
  if (s.allOf?.length) return typed(doc, mergeAll(doc, s), hints, name, depth + 1);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (s.nullable && !types.includes("null")) types.push("null");
  if (types.length > 1) {
    return fc.oneof(...types.map((t) => typed(doc, { ...s, type: t }, hints, name, depth)));
  }
  const type = types[0] ?? (s.properties ? "object" : s.items ? "array" : undefined);
  switch (type) {
    case "string":
      return stringArbitrary(s);
    case "integer":
      return integerArbitrary(s);
    case "number":
      return numberArbitrary(s);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? min + 4, min + 4);
      return fc.array(schemaArbitrary(doc, s.items ?? {}, hints, name, depth + 1), {
        minLength: min,
        maxLength: max,
      });
    }
    case "object":
      return objectArbitrary(doc, s, hints, name, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function mergeAll(doc: OpenApiDocument, s: Schema): Schema {
  const parts = (s.allOf ?? []).map((p) => resolve(doc, p));
  const merged: Schema = { ...s, allOf: undefined, type: "object", properties: {}, required: [] };
  for (const p of parts) {
    Object.assign(merged.properties!, p.properties);
    merged.required!.push(...(p.required ?? []));
    if (p.additionalProperties === false) merged.additionalProperties = false;
  }
  return merged;
}

function objectArbitrary(
  doc: OpenApiDocument,
  s: Schema,
  hints: Hints,
  name: string,
  depth: number,
): fc.Arbitrary<unknown> {
  const props = s.properties ?? {};
  const required = s.required ?? [];
  const record = fc.record(
    Object.fromEntries(
      Object.entries(props).map((
        [key, child],
      ) => [key, schemaArbitrary(doc, child, hints, key, depth + 1)]),
    ),
    { requiredKeys: required.filter((k) => k in props) },
  );
  const extra = s.additionalProperties;
  if (!extra || Object.keys(props).length > 0) {
    if (Object.keys(props).length < 2) return record;
    return fc.tuple(record, fc.nat()).map(([value, n]) => {
      if (n % 2 !== 0) return value;
      // A donor of the same kind: it has most of this object's fields (a rule for a rule).
      const keys = Object.keys(props);
      const need = Math.min(3, keys.length);
      const donors = hints.donors().filter((d) => keys.filter((k) => k in d).length >= need);
      if (donors.length === 0) return value;
      const donor = donors[(n >> 2) % donors.length]!;
      const out = { ...(value as Record<string, unknown>) };
      for (const key of Object.keys(out)) {
        const child = props[key];
        if (child && key in donor && accepts(doc, child, donor[key])) out[key] = donor[key];
      }
      return out;
    });
  }
  // A map: keys from the hints (header names under `headers`), values from its schema.
  const keys = hints.keysFor(name) ??
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 });
  const values = extra === true ? fc.jsonValue({ maxDepth: 2 }) : schemaArbitrary(
    doc,
    extra,
    hints,
    "",
    depth + 1,
  );
  return fc.dictionary(keys, values, { maxKeys: 4 });
}

function stringArbitrary(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 200;
  const edge = Math.min(max, LONGEST);
  const boundaries = fc.constantFrom(
    "x".repeat(Math.max(min, 1)),
    "x".repeat(edge),
    "é".repeat(Math.min(edge, 300)),
  );
  if (s.format === "date-time") {
    return fc.oneof(
      { weight: 5, arbitrary: isoDate() },
      { weight: 2, arbitrary: fc.constantFrom(...EDGE_DATE_TIMES) },
    );
  }
  if (s.format === "uuid") return fc.uuid();
  if (s.format === "email") return fc.emailAddress();
  const pattern = patternOf(s);
  if (pattern) {
    return fc.oneof(
      { weight: 5, arbitrary: fc.stringMatching(pattern) },
      { weight: 1, arbitrary: dirtyString(Math.min(max, 40)) },
    );
  }
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.string({ unit: "grapheme", minLength: min, maxLength: Math.min(max, 30) }),
    },
    { weight: 2, arbitrary: dirtyString(Math.min(max, 40)).filter((v) => v.length >= min) },
    { weight: 1, arbitrary: boundaries },
  );
}

/** ISO 8601 instants from the past to a year on, as clients send them (UTC, mostly). */
export function isoDate(): fc.Arbitrary<string> {
  const now = Date.now();
  return fc.tuple(
    fc.integer({ min: now - 400 * 86_400_000, max: now + 400 * 86_400_000 }),
    fc.nat(5),
  )
    .map(([ms, form]) => {
      const iso = new Date(ms).toISOString();
      return form < 3 ? iso : form < 5 ? iso.replace(/\.\d+Z$/u, "Z") : iso.replace("Z", "+02:00");
    });
}

/**
 * A cheap check of a value against a schema: type, enum, bounds, pattern, required keys. Enough
 * to keep a harvested value of the wrong shape out of the "valid" side.
 */
export function accepts(doc: OpenApiDocument, schema: Schema, v: unknown, depth = 0): boolean {
  const s = resolve(doc, schema);
  if (depth > 8) return true;
  if (s.const !== undefined) return v === s.const;
  if (s.enum) return s.enum.includes(v);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.some((a) => accepts(doc, a, v, depth + 1));
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length === 0) return true;
  return types.some((t) => {
    switch (t) {
      case "null":
        return v === null;
      case "boolean":
        return typeof v === "boolean";
      case "integer":
      case "number":
        if (typeof v !== "number" || (t === "integer" && !Number.isInteger(v))) return false;
        return (s.minimum === undefined || v >= s.minimum) &&
          (s.maximum === undefined || v <= s.maximum);
      case "string": {
        if (typeof v !== "string") return false;
        if (v.length < (s.minLength ?? 0) || v.length > (s.maxLength ?? Infinity)) return false;
        const re = patternOf(s);
        return !re || re.test(v);
      }
      case "array":
        return Array.isArray(v) && v.length <= (s.maxItems ?? Infinity);
      case "object":
        return !!v && typeof v === "object" && !Array.isArray(v) &&
          (s.required ?? []).every((k) => k in v);
      default:
        return true;
    }
  });
}

function bound(s: Schema, side: "min" | "max"): { value?: number; exclusive: boolean } {
  const inclusive = side === "min" ? s.minimum : s.maximum;
  const exclusive = side === "min" ? s.exclusiveMinimum : s.exclusiveMaximum;
  if (typeof exclusive === "number") return { value: exclusive, exclusive: true };
  return { value: inclusive, exclusive: exclusive === true };
}

function integerArbitrary(s: Schema): fc.Arbitrary<number> {
  const lo = bound(s, "min");
  const hi = bound(s, "max");
  const min = lo.value === undefined ? -(2 ** 31) : Math.ceil(lo.value + (lo.exclusive ? 1 : 0));
  const max = hi.value === undefined ? 2 ** 31 : Math.floor(hi.value - (hi.exclusive ? 1 : 0));
  const inRange = BOUNDARY_NUMBERS.filter((n) => Number.isInteger(n) && n >= min && n <= max);
  const edges = [min, max, ...inRange].filter((n) => Number.isSafeInteger(n));
  // An unbounded maximum is a 32-bit column's trap: 2^31 and beyond are "valid" to the schema.
  if (hi.value === undefined) edges.push(2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1);
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 1000) }) },
    { weight: 2, arbitrary: fc.integer({ min, max }) },
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
  );
}

function numberArbitrary(s: Schema): fc.Arbitrary<number> {
  const lo = bound(s, "min");
  const hi = bound(s, "max");
  const min = lo.value ?? -1e9;
  const max = hi.value ?? 1e9;
  const edges = BOUNDARY_NUMBERS.filter((n) =>
    (lo.exclusive ? n > min : n >= min) && (hi.exclusive ? n < max : n <= max)
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.double({
        min,
        max,
        minExcluded: lo.exclusive,
        maxExcluded: hi.exclusive,
        noNaN: true,
        noDefaultInfinity: true,
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...(edges.length ? edges : [min])) },
  );
}
