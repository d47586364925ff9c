/** The routes' schema builders give exactly the JSON TypeBox gives, without loading TypeBox at run time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type as TypeBox } from 'typebox';
import { Type } from '../src/server/json-schema.js';

/** The same schema built by both; `make` gets the builders of one of them. */
function same(name: string, make: (t: typeof Type) => unknown): void {
  const ours = JSON.stringify(make(Type));
  const theirs = JSON.stringify(make(TypeBox as unknown as typeof Type));
  assert.equal(ours, theirs, name);
}

test('each builder, with and without options, as TypeBox builds it', () => {
  const opts = { description: 'd', default: 'x' };
  same('String', (t) => [t.String(), t.String({ maxLength: 3, pattern: '^a' })]);
  same('Integer', (t) => [t.Integer(), t.Integer({ minimum: 1, maximum: 9 })]);
  same('Number', (t) => [t.Number(), t.Number({ minimum: 0 })]);
  same('Boolean', (t) => [t.Boolean(), t.Boolean({ default: false })]);
  same('Null', (t) => [t.Null(), t.Null({ description: 'n' })]);
  same('Literal', (t) => [t.Literal('x'), t.Literal(3), t.Literal(true), t.Literal('y', opts)]);
  same('Array', (t) => [t.Array(t.String()), t.Array(t.Integer(), { minItems: 1, maxItems: 5 })]);
  same('Union', (t) => [t.Union([t.String(), t.Null()]), t.Union([t.Literal('a'), t.Literal('b')], opts)]);
  same('Record', (t) => [t.Record(t.String(), t.Integer()), t.Record(t.String(), t.Number(), opts)]);
  same('Unsafe', (t) => [t.Unsafe({ type: ['string', 'null'] }), t.Unsafe({ $ref: 'x#' })]);
});

test('objects: required from the properties not marked Optional, nested, empty, with options', () => {
  same('Object', (t) => [
    t.Object({}),
    t.Object({ a: t.String() }),
    t.Object({ a: t.Optional(t.String()) }, { additionalProperties: false }),
    t.Object(
      {
        a: t.String({ maxLength: 5 }),
        b: t.Optional(t.Integer()),
        c: t.Object({ d: t.Optional(t.Array(t.Boolean())), e: t.Null() }),
        f: t.Optional(t.Union([t.String(), t.Null()])),
      },
      { additionalProperties: false, description: 'o' },
    ),
  ]);
  // A schema made optional in one object stays required in another: Optional marks a copy.
  same('shared', (t) => {
    const s = t.String();
    return [t.Object({ a: t.Optional(s) }), t.Object({ a: s })];
  });
});

test('the routes no longer load TypeBox: nothing under src/server imports it but types', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = new URL('../src/server/', import.meta.url).pathname;
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.js'));
  assert.ok(files.length > 10, `server modules found: ${files.length}`);
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8');
    assert.doesNotMatch(src, /from ['"]typebox['"]|import\(['"]typebox['"]\)/, f);
  }
});
