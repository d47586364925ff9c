import { readDisqus } from './disqus.js';
import { readIsso } from './isso.js';
import { readQuire } from './quire-format.js';
import { readRemark42 } from './remark42.js';
import type { ImportFormat, ReadMeter, SourceItem } from './source.js';
import { readWordpress } from './wordpress.js';

/** The reader of each import format. */
export const READERS: Readonly<
  Record<ImportFormat, (file: string, meter?: ReadMeter) => AsyncGenerator<SourceItem>>
> = {
  quire: readQuire,
  disqus: readDisqus,
  wordpress: readWordpress,
  remark42: readRemark42,
  isso: readIsso,
};
