import { renderFull } from './markdown-render.js';
import { serveTasks } from './task-pool.js';

/** A markdown.ts render worker: one text in, its HTML out. */
serveTasks<string, string>(renderFull);
