/**
 * resolvePath's shortcut (args.ts isResolved): a path it takes as already resolved must be exactly what
 * path.resolve makes of it, and every path with something to normalise must go through path.resolve.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { isResolved, resolvePath } from '../src/args.js';

const PATHS = [
  '/',
  '//',
  '/a',
  '/a/',
  '/a//b',
  '/a/./b',
  '/a/../b',
  '/a/..',
  '/a/.',
  '/a/.b',
  '/a/b.',
  '/a/b..',
  '/a/b/c.json',
  '/a\\b/c',
  '/é/ü/x',
  'a/b',
  './a',
  '../a',
  '',
  '.',
  '/a/b/',
  '///a',
];

test('a path taken as resolved is what path.resolve returns; the others are resolved', () => {
  for (const p of PATHS) {
    if (p === '') continue;
    if (isResolved(p)) assert.equal(path.resolve(p), p, `${p} was taken as resolved`);
    assert.equal(resolvePath(p), path.resolve(p), p);
  }
  // The common paths take the shortcut.
  for (const p of ['/', '/a', '/a/b.', '/srv/quire/pages/x-1.json']) assert.ok(isResolved(p), p);
  for (const p of ['/a/', '/a//b', '/a/./b', '/a/..', 'a/b']) assert.ok(!isResolved(p), p);
});

test('random paths: the shortcut never disagrees with path.resolve', () => {
  const parts = ['a', 'b', '.', '..', '', '.x', 'x.', '...'];
  for (let i = 0; i < 20000; i++) {
    const n = 1 + Math.floor(Math.random() * 5);
    const p = `/${Array.from({ length: n }, () => parts[Math.floor(Math.random() * parts.length)]).join('/')}`;
    if (isResolved(p)) assert.equal(path.resolve(p), p, p);
  }
});
