// The abuse benchmark's server: `quire` with its DEFAULT configuration, but for what a real site must set (its
// origin, an admin password), in a process of its own. `node abuse-server.js DATADIR`: prints its URL once it
// listens; exits on SIGTERM within the grace period the service sets.
import { hashPassword, startServer } from 'quire';

import { ORIGIN } from './lib/abuse-http.js';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: abuse-server DATADIR');
const s = await startServer({
  dataDir,
  port: 0,
  host: '127.0.0.1',
  env: {},
  logger: false,
  config: { origins: [ORIGIN], adminPasswordHash: await hashPassword('the right password') },
});
process.stdout.write(`${s.url}\n`);
