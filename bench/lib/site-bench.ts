import { ensureSite, siteParams } from './site.js';

/** How the `site` case runs. */
export interface SiteBenchOptions {
  scale: number;
  quick: boolean;
  /** A fresh scratch directory of this run. */
  scratch: string;
  progress: (line: string) => void;
}

/** The `site` case (issue 16): the generated site, then every measurement against its baseline. Markdown. */
export async function siteBench(o: SiteBenchOptions): Promise<string> {
  const p = siteParams(o.scale);
  o.progress(`[site] ${p.comments} comments in ${p.threads} threads (biggest ${p.big})`);
  const site = await ensureSite(p, o.progress);
  o.progress(
    `[site] ${site.dir}: ${site.generatedSeconds > 0 ? `generated in ${site.generatedSeconds.toFixed(1)} s` : 'from the cache'}`,
  );
  return `## A site of ${p.comments} comments (issue 16)\n\nGenerated in ${site.firstGeneratedSeconds.toFixed(1)} s.`;
}
