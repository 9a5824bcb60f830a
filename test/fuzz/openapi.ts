/**
 * The part of an OpenAPI 3.1 document the fuzzer reads: operations, their parameters and request
 * bodies, and JSON Schema with `$ref`s into `components.schemas`. Everything the fuzzer generates
 * starts here, so that a route added to the gateway is fuzzed without new code.
 */

/** The JSON Schema keywords the generator understands (what zod-openapi emits). */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  default?: unknown;
  nullable?: boolean;
  example?: unknown;
  description?: string;
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
  example?: unknown;
}

export interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, MediaType>; required?: boolean };
  responses?: Record<string, unknown>;
  security?: unknown[];
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
  security?: unknown[];
}

/** One path + method of the document, as the fuzzer drives it. */
export interface Operation {
  /** `POST /v1/deliveries/{id}/parts`: the route's name in reports. */
  id: string;
  method: string;
  /** The path template, `{name}` for each path parameter. */
  template: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  headerParams: Parameter[];
  /** Request media types and their schemas; empty when the operation takes no body. */
  bodies: { mediaType: string; schema: Schema; example?: unknown }[];
  bodyRequired: boolean;
  /** Statuses the document declares, as strings (`"201"`, `"4XX"`, `"default"`). */
  documented: string[];
  /** Whether the route needs a key at all (an operation may clear the global `security`). */
  secured: boolean;
  /** An operator-only route: its document lists a 403. */
  operatorOnly: boolean;
}

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = op.parameters ?? [];
      const content = op.requestBody?.content ?? {};
      const security = op.security ?? doc.security ?? [];
      out.push({
        id: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === "path"),
        queryParams: params.filter((p) => p.in === "query"),
        headerParams: params.filter((p) => p.in === "header"),
        bodies: Object.entries(content).map(([mediaType, m]) => ({
          mediaType,
          schema: m.schema ?? {},
          example: m.example ?? m.schema?.example,
        })),
        bodyRequired: op.requestBody?.required ?? false,
        documented: Object.keys(op.responses ?? {}),
        secured: security.length > 0,
        operatorOnly: Object.hasOwn(op.responses ?? {}, "403"),
      });
    }
  }
  return out;
}

/** Follows `$ref`s (local ones only: zod-openapi emits nothing else). */
export function resolve(doc: OpenApiDocument, schema: Schema, depth = 0): Schema {
  if (!schema.$ref || depth > 32) return schema;
  const name = schema.$ref.replace(/^#\/components\/schemas\//u, "");
  const target = doc.components?.schemas?.[name];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  return resolve(doc, target, depth + 1);
}

/**
 * The pattern as a RegExp, or null. zod-openapi writes a regex's source with its flags appended
 * (`^op-…$/u`): taken literally that pattern can match nothing, so the suffix is dropped.
 */
export function patternOf(schema: Schema): RegExp | null {
  if (!schema.pattern) return null;
  const source = schema.pattern.replace(/\$\/[dgimsuvy]*$/u, "$");
  try {
    return new RegExp(source, "u");
  } catch {
    try {
      return new RegExp(source);
    } catch {
      return null;
    }
  }
}

/** A documented status answers `status` (exact, a `4XX` range, or `default`). */
export function isDocumented(op: Operation, status: number): boolean {
  return op.documented.some((d) =>
    d === String(status) || d === "default" || d.toUpperCase() === `${String(status)[0]}XX`
  );
}

/** The segments of a template: `{ static: "deliveries" }` or `{ param: "id" }`. */
export function segmentsOf(template: string): ({ static: string } | { param: string })[] {
  return template.split("/").filter(Boolean).map((s) => {
    const m = /^\{(.+)\}$/u.exec(s);
    return m ? { param: m[1]! } : { static: s };
  });
}

/**
 * The groups of path parameters of a template, each named by the static segment before it:
 * `/v1/quarantine/{channel}/{address}` → `[{ collection: "quarantine", names: ["channel",
 * "address"] }]`. A group's values come together from one object that collection answered.
 */
export function paramGroups(template: string): { collection: string; names: string[] }[] {
  const groups: { collection: string; names: string[] }[] = [];
  let last = "";
  let current: { collection: string; names: string[] } | null = null;
  for (const s of segmentsOf(template)) {
    if ("static" in s) {
      last = s.static;
      current = null;
    } else {
      if (!current) {
        current = { collection: last, names: [] };
        groups.push(current);
      }
      current.names.push(s.param);
    }
  }
  return groups;
}

/**
 * The collection an operation's answers belong to: its last static segment
 * (`GET /v1/deliveries/{id}/messages` answers messages, `POST /v1/rules` a rule).
 */
export function collectionOf(template: string): string {
  const statics = segmentsOf(template).flatMap((s) => ("static" in s ? [s.static] : []));
  return statics.at(-1) ?? "";
}
