#!/usr/bin/env node
// The `quire` command as npm links it. This file is committed, not built: npm links a package's bins when it
// installs, before any build, and skips a bin whose file does not exist yet, so a bin in dist/ left
// `npx quire` "not found" on a fresh clone even after `npm ci && npm run build`. It loads the built CLI.
'use strict';
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'bin.cjs');
try {
  require.resolve(entry);
} catch {
  process.stderr.write(
    `quire: the CLI is not built yet (${path.relative(process.cwd(), entry) || entry} is missing).\n` +
      'Run `npm run build` in the repository root first.\n',
  );
  process.exit(1);
}
require(entry);
