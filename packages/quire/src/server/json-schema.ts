/**
 * The routes' JSON Schemas, built as TypeBox builds them (`Type.Object`, `Type.String`, ...) and typed by
 * TypeBox's own declarations, so each route's schema stays the one source of its types, but without loading
 * TypeBox at run time: its ~700 modules cost the process about 20 MB of RSS and 200 ms of start-up (measured
 * with `import('typebox')`), more than any cache budget, to make a few dozen plain objects once.
 *
 * Only what the routes use is here. Each function returns exactly the JSON TypeBox 1.x returns (same keys, same
 * order; test/server-json-schema.test.ts compares them); TypeBox's own markers are non-enumerable and read by
 * nobody but TypeBox, so a schema here carries none (which properties are optional is kept aside, for Object).
 */
import type { Type as TypeBox } from 'typebox';

type Builders = Pick<
  typeof TypeBox,
  | 'Array'
  | 'Boolean'
  | 'Integer'
  | 'Literal'
  | 'Null'
  | 'Number'
  | 'Object'
  | 'Optional'
  | 'Record'
  | 'String'
  | 'Unsafe'
  | 'Union'
>;

type Json = Record<string, unknown>;

/** The schemas Optional made: Object leaves them out of `required` (a copy each, so a schema used elsewhere stays). */
const optionals = new WeakSet<Json>();

function optional(schema: Json): Json {
  const copy = { ...schema };
  optionals.add(copy);
  return copy;
}

function object(properties: Record<string, Json>, options?: Json): Json {
  const required = Object.keys(properties).filter((k) => !optionals.has(properties[k] as Json));
  return required.length === 0
    ? { type: 'object', properties, ...options }
    : { type: 'object', required, properties, ...options };
}

function literal(value: string | number | boolean, options?: Json): Json {
  return { type: typeof value, const: value, ...options };
}

/** A record keyed by any string (the only key the routes use), as TypeBox writes it. */
function record(_key: Json, value: Json, options?: Json): Json {
  return { type: 'object', patternProperties: { '^.*$': value }, ...options };
}

const builders = {
  Array: (items: Json, options?: Json): Json => ({ type: 'array', items, ...options }),
  Boolean: (options?: Json): Json => ({ type: 'boolean', ...options }),
  Integer: (options?: Json): Json => ({ type: 'integer', ...options }),
  Literal: literal,
  Null: (options?: Json): Json => ({ type: 'null', ...options }),
  Number: (options?: Json): Json => ({ type: 'number', ...options }),
  Object: object,
  Optional: optional,
  Record: record,
  String: (options?: Json): Json => ({ type: 'string', ...options }),
  Unsafe: (schema: Json): Json => ({ ...schema }),
  Union: (anyOf: Json[], options?: Json): Json => ({ anyOf, ...options }),
};

/** TypeBox's builders that the routes use, typed as TypeBox types them. */
export const Type = builders as unknown as Builders;
