/** What a comment's text hash folds, on the ASCII fast path and off it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { textHashOf } from '../src/store/records.js';

/** The fold without the ASCII shortcut. */
function slowHash(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(folded).digest('hex').slice(0, 32);
}

test('textHashOf: ASCII texts hash as their NFKC fold; case, white space and look-alikes fold together', () => {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < 500; i++) {
    const text = Array.from({ length: 1 + (next() % 200) }, () => String.fromCharCode(next() % 128)).join('');
    assert.equal(textHashOf(text), slowHash(text), JSON.stringify(text));
  }
  assert.equal(textHashOf('Hello   World\n'), textHashOf('hello world'));
  assert.equal(
    textHashOf('ｈｅｌｌｏ ｗｏｒｌｄ'),
    textHashOf('hello world'),
    'full-width letters are NFKC look-alikes',
  );
  assert.equal(textHashOf('ﬁne'), textHashOf('fine'), 'a ligature folds to its letters');
  assert.equal(textHashOf('\u00aab'), textHashOf('ab'), 'Latin-1 is not ASCII: U+00AA folds to a');
  assert.notEqual(textHashOf('hello world'), textHashOf('hello, world'));
});
