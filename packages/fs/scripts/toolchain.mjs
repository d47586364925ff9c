// Where node-gyp and Node's headers are on this machine, so that no build downloads anything: Node's own
// headers (include/node next to the node binary, or /usr, /usr/local) stand in for node-gyp's header download,
// and npm's bundled node-gyp does the build. Shared by build-native.mjs (install, npm run build) and
// prebuild.mjs (prepack).
import fs from 'node:fs';
import path from 'node:path';

/** A directory with include/node/node_api.h and common.gypi, for node-gyp's --nodedir; undefined if none. */
export function nodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(process.execPath, '../..'),
    '/usr',
    '/usr/local',
  ];
  return candidates.find(
    (d) =>
      d &&
      fs.existsSync(path.join(d, 'include/node/node_api.h')) &&
      fs.existsSync(path.join(d, 'include/node/common.gypi')),
  );
}

/** npm's node-gyp (bin/node-gyp.js); undefined if none is found. */
export function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((f) => f?.endsWith('.js') && fs.existsSync(f));
}
