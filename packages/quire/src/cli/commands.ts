import type { Command } from './command.js';

/** A command as `quire --help` lists it; its module (and what that imports) is loaded only to run it. */
export interface CommandEntry {
  summary: string;
  load(): Promise<{ command: Command }>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { summary: 'run the comment service (HTTP)', load: () => import('./serve.js') },
  'hash-password': {
    summary: 'print the hash of an admin password (read from standard input)',
    load: () => import('./hash-password.js'),
  },
  append: {
    summary: 'publish standard input as a new record and print its id',
    load: () => import('./append.js'),
  },
  ls: { summary: 'list record ids, oldest first', load: () => import('./ls.js') },
  cat: { summary: 'print records', load: () => import('./cat.js') },
  tail: {
    summary: 'print the newest ids; with -f, keep printing new ones',
    load: () => import('./tail.js'),
  },
  fsck: { summary: 'check a spool; --repair fixes what is safe to fix', load: () => import('./fsck.js') },
  import: {
    summary: 'import comments from Disqus, WordPress, Isso, Remark42 or a quire export',
    load: () => import('./import.js'),
  },
  export: { summary: 'write every comment as JSON Lines or Disqus XML', load: () => import('./export.js') },
  'test-mail': {
    summary: 'send a test mail through the configured SMTP server',
    load: () => import('./test-mail.js'),
  },
  lock: { summary: 'run a command while holding a lock, like flock(1)', load: () => import('./lock.js') },
};

export const USAGE = `quire — blog comments as plain files: the comment service, and spools and locks from the shell

Usage: quire COMMAND ARGS... [OPTIONS]
       quire help COMMAND          or: quire COMMAND --help

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`)
  .join('\n')}

A spool is a directory of records named YYYYMMDDTHHMMSSZ-N[.EXT]; a record's
id is its name.

Exit codes: 0 success; 1 failure (no such spool or record, fsck found problems,
I/O error); 2 usage error, also an ID that is not a record name; 75 lock
timeout; quire lock exits with its COMMAND's code.

Examples:
  quire serve --data ./data           the comment service on 127.0.0.1:8080
  echo hello | quire append notes
  quire ls -r -n 5 notes
  quire tail -f notes`;
