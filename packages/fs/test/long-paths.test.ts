/**
 * Paths whose UTF-8 runs past the addon's 1 KiB stack buffer for strings (native/addon-req.c, `measure`), with
 * multibyte characters where a copy into it would be cut: every writer must use the whole path, natively and in
 * pure JS alike.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createExclusive, createExclusiveSync, createUnique, replaceFile } from '@quire/fs';
import { tempDir } from './helpers.js';

test('writers use the whole path when it is about 1 KiB of UTF-8 with multibyte characters at the end', async (t) => {
  const root = tempDir(t);
  let case_ = 0;
  for (let total = 1012; total <= 1032; total++) {
    for (const ch of ['a', 'é', '€', '😀']) {
      // Directories of 200 bytes up to `total` - 300 bytes, then a name of `ch`s filling the path to `total`.
      let dir = path.join(root, String(case_++));
      while (Buffer.byteLength(dir) < total - 300) dir = path.join(dir, 'd'.repeat(200));
      fs.mkdirSync(dir, { recursive: true });
      let name = '';
      while (Buffer.byteLength(path.join(dir, name + ch)) <= total) name += ch;
      const file = path.join(dir, name);
      await createExclusive(file, 'x');
      createExclusiveSync(`${file}.s`, 'y');
      await replaceFile(file, 'z');
      const unique = await createUnique(dir, 'u');
      assert.deepEqual(fs.readdirSync(dir).sort(), [name, `${name}.s`, unique.name].sort());
      assert.equal(fs.readFileSync(file, 'utf8'), 'z');
      assert.equal(fs.readFileSync(`${file}.s`, 'utf8'), 'y');
    }
  }
});
