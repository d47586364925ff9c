import { only } from './args.js';
import { type Command, EXIT, HELP_OPTION } from './command.js';
import { open, SUFFIX_HELP, SUFFIX_OPTION } from './spool.js';

/** `quire fsck DIR`: checks (and with --repair fixes) a spool. */
export const command: Command = {
  usage: 'quire fsck DIR [--repair] [--json] [--progress] [--suffix .EXT]',
  help: `Reports temps left by dead writers, stray or malformed names, unreadable
records and unfinished keyed appends, one per line (found|repaired, problem,
name, detail, tab-separated), then a summary. Exits 0 when the spool is clean
(after --repair), 1 otherwise. --repair removes dead writers' temps and
finishes keys whose record exists; it never removes a record, nor a name it
does not understand.

Options:
  --repair         fix what is safe to fix
  --json           print the report as JSON:
                   {records, issues: [{name, problem, detail, repaired}], clean}
  --progress       say on stderr what is being checked (the default when
                   stderr is a terminal)
${SUFFIX_HELP}

Examples:
  quire fsck comments || quire fsck comments --repair
  quire fsck comments --json | jq '.issues[] | .name'`,
  options: {
    ...HELP_OPTION,
    ...SUFFIX_OPTION,
    repair: { type: 'boolean' },
    json: { type: 'boolean' },
    progress: { type: 'boolean' },
  },
  async run(inv) {
    const spool = await open(only(inv, 'DIR'), inv);
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
