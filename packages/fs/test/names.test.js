import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareNames, formatStamp, parseName } from '@quire/fs';
test('formatStamp gives the UTC second as YYYYMMDDTHHMMSSZ', () => {
    assert.equal(formatStamp(Date.UTC(2026, 10, 26, 10, 15, 0, 999)), '20261126T101500Z');
});
test('parseName reads stamp, counter and suffix', () => {
    const p = parseName('20261126T101500Z-3.json');
    assert.deepEqual(p, {
        name: '20261126T101500Z-3.json',
        stamp: '20261126T101500Z',
        time: Date.UTC(2026, 10, 26, 10, 15, 0),
        counter: 3,
        suffix: '.json',
    });
});
test('parseName rejects temps, leading zeros and impossible dates', () => {
    for (const bad of [
        '.quire-1-abcdefabcdef-host',
        '20261126T101500Z-03',
        '20261340T101500Z-1',
        '20261126T101500Z-',
        'x',
    ]) {
        assert.equal(parseName(bad), null, bad);
    }
});
test('compareNames orders by timestamp, then counter as a number', () => {
    const names = ['20261126T101501Z-0', '20261126T101500Z-10', '20261126T101500Z-9', '20261126T101500Z-0'];
    assert.deepEqual(names.sort(compareNames), [
        '20261126T101500Z-0',
        '20261126T101500Z-9',
        '20261126T101500Z-10',
        '20261126T101501Z-0',
    ]);
});
//# sourceMappingURL=names.test.js.map