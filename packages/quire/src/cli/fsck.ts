import { only } from './args.js';
import { type Command, EXIT, HELP_OPTION } from './command.js';
import { fsckDataDir, isDataDir } from './fsck-data.js';
import { open, SUFFIX_HELP, SUFFIX_OPTION } from './spool.js';

/** `quire fsck DIR`: checks (and with --repair fixes) a spool, or a comment service's data directory. */
export const command: Command = {
  usage: 'quire fsck DIR [--repair] [--json] [--progress] [--suffix .EXT]',
  help: `Checks a spool, or the data directory of \`quire serve\` (DIR has quire.json and
threads/). Reports one problem per line (found|repaired, problem, name,
detail, tab-separated), then a summary.

A spool: temps left by dead writers, stray or malformed names, unreadable
records, unfinished keyed appends. --repair removes dead writers' temps and
finishes keys whose record exists.

A data directory: quire.json; the secret (present, 32 bytes, mode 0600);
settings.json; in every thread, each comment file (parses, every field there,
its parent there), .thread.json, votes (each for a comment that exists),
nonce claims, temps of dead writers. --repair removes dead writers' temps and
moves an unparsable (e.g. 0-byte) comment file to the thread's .quarantine/
(it is reported there on every run until you remove it). Names fsck does not
know are reported as unknown and left alone.

--repair never removes a record, a vote, nor a name it does not understand;
every line it prints says what it did.

Exit codes:
  0  clean (after --repair): nothing left to do
  1  problems remain (listed), or DIR could not be checked (message on stderr)
  2  bad arguments

Options:
  --repair         fix what is safe to fix
  --json           print the report as JSON:
                   {records, issues: [{name, problem, detail, repaired}], clean}
  --progress       say on stderr what is being checked (the default when
                   stderr is a terminal)
${SUFFIX_HELP}

Examples:
  quire fsck comments || quire fsck comments --repair
  quire fsck comments --json | jq '.issues[] | .name'
  quire fsck /var/lib/quire --repair`,
  options: {
    ...HELP_OPTION,
    ...SUFFIX_OPTION,
    repair: { type: 'boolean' },
    json: { type: 'boolean' },
    progress: { type: 'boolean' },
  },
  async run(inv) {
    const dir = only(inv, 'DIR');
    if (await isDataDir(dir)) return fsckDataDir(dir, inv);
    const spool = await open(dir, inv);
    const progress = inv.values.progress === true || process.stderr.isTTY;
    if (progress) process.stderr.write(`quire fsck: checking ${spool.dir}\n`);
    const report = await spool.check({
      repair: inv.values.repair === true,
      ...(progress
        ? { onProgress: (n: number) => process.stderr.write(`quire fsck: ${n} records checked\n`) }
        : {}),
    });
    if (inv.values.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      for (const i of report.issues) {
        process.stdout.write(`${i.repaired ? 'repaired' : 'found'}\t${i.problem}\t${i.name}\t${i.detail}\n`);
      }
      process.stdout.write(
        `${report.records} records, ${report.issues.length} issues, ${report.clean ? 'clean' : 'NOT clean'}\n`,
      );
    }
    return report.clean ? EXIT.ok : EXIT.failure;
  },
};
