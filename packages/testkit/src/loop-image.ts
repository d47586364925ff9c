/**
 * A power-cut campaign's disk (packages/fs/test/powercut.ts, packages/quire/test/powercut-*.test.ts): an image file on a loop device of its own, formatted afresh, mounted on a
 * directory of its own. Any number of campaigns (two `npm test` runs, a test and `npm run crash-campaign`) can
 * share one machine: the images and mount point lie in the caller's mkdtemp directory, `losetup --find --show`
 * hands each attach the first free device, every mkfs gives the filesystem a fresh random UUID, and xfs is
 * mounted with `nouuid`.
 *
 * Why nouuid: a process that creates a mount namespace (unshare(2), as sandboxes do) while one of our
 * filesystems is mounted keeps a copy of that mount, and with it the filesystem, alive after we unmount it. xfs
 * refuses to mount a filesystem whose UUID is mounted anywhere ("Filesystem has duplicate UUID ... can't
 * mount"), which is what the remount after a cut then met when two runs overlapped. Such a lingering instance
 * of a cut filesystem is shut down and writes nothing more; one of a filesystem ejected after its check could
 * still write back, so every format() takes a new image file and the old one is unlinked: whatever a lingering
 * instance writes goes to an inode no later cut uses.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type FsType = 'ext4' | 'xfs';
export const FS_TYPES: readonly FsType[] = ['ext4', 'xfs'];

export const IMAGE_BYTES = 256 * 1024 * 1024;

/** Runs a system command; rejects with its stderr. */
export function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

function isMounted(mnt: string): boolean {
  const target = mnt.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === target);
}

/** The mkfs command line that formats `dev` as `type` with the filesystem UUID `uuid`. */
export function mkfsCommand(type: FsType, dev: string, uuid: string): [string, string[]] {
  return type === 'ext4'
    ? ['mkfs.ext4', ['-q', '-F', '-U', uuid, dev]]
    : ['mkfs.xfs', ['-q', '-f', '-m', `uuid=${uuid}`, dev]];
}

/** The mount options for `type`: xfs is told not to check its UUID against the filesystems it has mounted. */
export function mountOptions(type: FsType): string[] {
  return type === 'xfs' ? ['-o', 'nouuid'] : [];
}

/**
 * One image, attached, formatted, mounted and released through system commands. After stop(), no command runs
 * any more; release() then unmounts and detaches whatever is still mounted or attached.
 */
export class LoopImage {
  readonly mnt: string;
  private readonly base: string;
  /** The image of the current filesystem, and how many have been made. */
  private image: string | undefined;
  private formats = 0;
  private dev: string | undefined;
  /** System commands under way: release() lets them finish before it unmounts and detaches. */
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  /** The image and mount point go in `base`, which must be a directory of this campaign's own. */
  constructor(
    readonly type: FsType,
    base: string,
  ) {
    this.base = base;
    this.mnt = path.join(base, 'mnt');
  }

  /** Makes the mount point. */
  create(): void {
    fs.mkdirSync(this.mnt, { recursive: true });
  }

  /** A fresh filesystem (a new UUID) in a new sparse image file on a free loop device, mounted. */
  async format(): Promise<void> {
    if (this.image !== undefined) fs.rmSync(this.image, { force: true });
    this.image = path.join(this.base, `fs-${++this.formats}.img`);
    fs.writeFileSync(this.image, '');
    fs.truncateSync(this.image, IMAGE_BYTES);
    const dev = await this.attach();
    const [cmd, args] = mkfsCommand(this.type, dev, randomUUID());
    // xfsprogs 5.19+ refuses filesystems under 300 MB unless fstests is running it, which it recognises by
    // these three variables: the campaign's 256 MiB image is such a test filesystem.
    await this.sys(cmd, args, { TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' });
    await this.mount(dev);
  }

  /** What a reboot does to the disk: unmounted, detached, attached again (maybe elsewhere), mounted. */
  async reboot(): Promise<void> {
    await this.eject();
    await this.mount(await this.attach());
  }

  /** Unmounted and detached. */
  async eject(): Promise<void> {
    await this.sys('umount', [this.mnt]);
    const dev = this.dev;
    if (dev === undefined) return;
    await this.sys('losetup', ['-d', dev]);
    this.dev = undefined;
  }

  /** No system command runs after this. */
  stop(): void {
    this.stopped = true;
  }

  /** Waits for the commands under way. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  /**
   * Unmounts (lazily if it must) and detaches every loop device of the image, whatever state a failure left.
   * Throws, after trying everything, when something could not be undone.
   */
  async release(): Promise<void> {
    const errors: string[] = [];
    if (isMounted(this.mnt)) {
      await sh('umount', [this.mnt]).catch(async (err: Error) => {
        errors.push(err.message);
        await sh('umount', ['-l', this.mnt]).catch((e: Error) => errors.push(e.message));
      });
    }
    const devs = new Set<string>(this.dev ? [this.dev] : []);
    this.dev = undefined;
    if (this.image !== undefined && fs.existsSync(this.image)) {
      const out = await sh('losetup', ['-j', this.image]).catch(() => '');
      for (const l of out.split('\n')) {
        const d = /^(\/dev\/loop\d+):/.exec(l)?.[1];
        if (d) devs.add(d);
      }
    }
    for (const d of devs) {
      await sh('losetup', ['-d', d]).catch((e: Error) => {
        if (!/No such device/.test(e.message)) errors.push(e.message);
      });
    }
    if (errors.length > 0) throw new Error(`power-cut cleanup: ${errors.join('; ')}`);
  }

  private async attach(): Promise<string> {
    if (this.image === undefined) throw new Error('internal: attach before format');
    this.dev = (await this.sys('losetup', ['--find', '--show', this.image])).trim();
    return this.dev;
  }

  private async mount(dev: string): Promise<void> {
    await this.sys('mount', ['-t', this.type, ...mountOptions(this.type), dev, this.mnt]);
  }

  /** Runs a system command, unless stopped: after stop() nothing is attached, mounted or cut any more. */
  private async sys(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    if (this.stopped) throw new Error(`power-cut campaign closed; not running ${cmd}`);
    const run = sh(cmd, args, env);
    this.pending.add(run);
    try {
      return await run;
    } finally {
      this.pending.delete(run);
    }
  }
}
