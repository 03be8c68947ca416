/**
 * `desim plot DIR`: redraws the plots of a results folder desim wrote, from
 * its CSV files. The plots are drawn into a temporary folder; their names are
 * recorded in the folder's marker (`meta.json` or `sweep.json`) before they
 * are moved in, so an interrupted redraw never leaves a file of desim's that
 * the marker does not name. A folder desim did not write is refused, and so
 * is a plot file in the way that desim did not write. Figures an earlier draw
 * wrote there (named in the marker) that this draw does not write, such as
 * `cwnd.png` after `--format svg`, are removed, so the folder shows only what
 * the CSVs now give; nothing the marker does not name is ever removed.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from './errors.js';
import { dropTemp, inspectOutDir, readJsonFile, tempDirIn, writeFileAtomic } from './files.js';
import { plotDirectory } from './plot.js';
import type { PlotFormat } from './plots/formats.js';

/** File names of figures desim draws: `<name>.svg`, `.png`, `.pdf` and the `--spec` file `<name>.vl.json`. */
const FIGURE_FILE = /\.(svg|png|pdf|vl\.json)$/;

/** Redraws the plots of `dir`; returns the files written. Throws {@link OutputError} for a folder that is not desim's or has nothing to plot. */
export async function replotFolder(
  dir: string,
  options: {
    readonly formats?: readonly PlotFormat[];
    readonly spec?: boolean;
    /** Told each earlier figure of desim's that was removed because this draw does not make it. */
    readonly onRemoved?: (name: string) => void;
  } = {},
): Promise<string[]> {
  const s = inspectOutDir(dir);
  if (s.state === 'missing') throw new OutputError(dir, 'no such folder');
  if (s.state !== 'desim' || (s.kind !== 'run' && s.kind !== 'sweep')) {
    throw new OutputError(
      dir,
      'is not a run or sweep folder that desim wrote (no meta.json or sweep.json of desim); desim plots and writes only into its own results folders',
    );
  }
  const tmp = tempDirIn(dir, dir);
  try {
    const written = await plotDirectory(dir, { into: tmp, ...options });
    if (written.length === 0) {
      throw new OutputError(
        dir,
        "has no CSV file that desim knows how to plot (trace-cwnd.csv, trace-infection.csv, trace-deliveries.csv with updates.csv, trace-calls.csv, or a sweep's aggregate.csv); runs without traces have nothing to draw",
      );
    }
    const inTheWay = written.filter((f) => existsSync(join(dir, f)) && !s.owned.has(f));
    if (inTheWay.length > 0)
      throw new OutputError(
        dir,
        `holds ${inTheWay.join(', ')}, which desim did not write; move ${inTheWay.length === 1 ? 'it' : 'them'} away to let desim draw there`,
      );
    const marker = join(dir, s.kind === 'sweep' ? 'sweep.json' : 'meta.json');
    const json = readJsonFile<Record<string, unknown>>(marker, "it is desim's record of the folder");
    const listed = Array.isArray(json['files']) ? (json['files'] as unknown[]).filter((f): f is string => typeof f === 'string') : [];
    const missing = written.filter((f) => !listed.includes(f));
    // A run's record names its figure formats as a run does (none for svg alone), so that a replay draws what the folder holds.
    const record = s.kind === 'run' ? withFormats(json, options.formats ?? ['svg']) : json;
    if (missing.length > 0 || record !== json)
      writeFileAtomic(marker, JSON.stringify({ ...record, files: [...listed, ...missing].sort() }, null, 2) + '\n');
    for (const f of written) renameSync(join(tmp, f), join(dir, f));
    // Earlier figures of desim's that this draw did not make: removed first, then unlisted (an
    // interruption in between leaves the marker naming a file that is gone, never the reverse).
    const stale = listed.filter((f) => FIGURE_FILE.test(f) && !written.includes(f) && s.owned.has(f));
    if (stale.length > 0) {
      for (const f of stale) {
        rmSync(join(dir, f), { force: true });
        options.onRemoved?.(f);
      }
      const kept = [...listed, ...missing].filter((f) => !stale.includes(f)).sort();
      writeFileAtomic(marker, JSON.stringify({ ...record, files: kept }, null, 2) + '\n');
    }
    return written;
  } finally {
    dropTemp(tmp);
  }
}

/** A run's meta.json with `formats` as a run with these formats records it (no key for svg alone); the same object when that is what it says. */
function withFormats(json: Record<string, unknown>, formats: readonly PlotFormat[]): Record<string, unknown> {
  const now = formats.join() === 'svg' ? undefined : formats.join();
  const then = Array.isArray(json['formats']) ? (json['formats'] as unknown[]).join() : undefined;
  if (now === then) return json;
  if (now !== undefined) return { ...json, formats: [...formats] };
  const rest = { ...json };
  delete rest['formats'];
  return rest;
}
