/**
 * `desim plot DIR`: redraws the plots of a results folder desim wrote, from
 * its CSV files, and records any new plot file in the folder's marker
 * (`meta.json` or `sweep.json`) so that desim knows it wrote it. A folder
 * desim did not write is refused, and so is a plot file in the way that
 * desim did not write.
 */
import { join } from 'node:path';
import { OutputError } from './errors.js';
import { inspectOutDir, readJsonFile, writeFileAtomic } from './files.js';
import { plotDirectory } from './plot.js';

/** Redraws the plots of `dir`; returns the files written. Throws {@link OutputError} for a folder that is not desim's or has nothing to plot. */
export async function replotFolder(dir: string): Promise<string[]> {
  const s = inspectOutDir(dir);
  if (s.state === 'missing') throw new OutputError(dir, 'no such folder');
  if (s.state !== 'desim' || s.kind === 'validation') {
    throw new OutputError(dir, 'is not a run or sweep folder that desim wrote (no meta.json or sweep.json of desim); desim plots and writes only into its own results folders');
  }
  const written = await plotDirectory(dir, { replaceable: (name) => s.owned.has(name) });
  if (written.length === 0) {
    throw new OutputError(dir, 'has no CSV file that desim knows how to plot (trace-cwnd.csv, trace-infection.csv or a sweep\'s aggregate.csv); runs without traces have nothing to draw');
  }
  const marker = join(dir, s.kind === 'sweep' ? 'sweep.json' : 'meta.json');
  const json = readJsonFile<Record<string, unknown>>(marker, 'it is desim\'s record of the folder');
  const listed = Array.isArray(json['files']) ? (json['files'] as string[]) : [];
  const missing = written.filter((f) => !listed.includes(f));
  if (missing.length > 0) writeFileAtomic(marker, JSON.stringify({ ...json, files: [...listed, ...missing].sort() }, null, 2) + '\n');
  return written;
}
