/**
 * Plots from the CSV files a run or a sweep wrote.
 *
 * Theory of operation: each protocol has a plot recipe (`plots/tcp.ts`,
 * `plots/gossip.ts`, `plots/sweep.ts`) that reads the CSV files it knows
 * (streaming; traces can be large), thins long series deterministically, and
 * returns Vega-Lite specs with the data inline, styled by `plots/style.ts`.
 * The renderer (`plots/render.ts`) compiles each spec to Vega and draws it
 * headlessly to SVG. Each file is written atomically (temporary file +
 * rename). The same CSVs give the same bytes: data order is file order, all
 * choices are pure functions of the data, and nothing reads the clock.
 *
 * Recipes (file in `dir` → figure written):
 * - `trace-cwnd.csv` → `cwnd.svg` (TCP);
 * - `trace-infection.csv` → `infection.svg` (gossip);
 * - `trace-calls.csv` → `calls.svg` (protocol modules);
 * - `trace-members.csv` → `members.svg` (swim);
 * - `aggregate.csv` (+ `sweep.json`) → `<metric>.svg` per metric (sweeps).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { gossipFigures } from './plots/gossip.js';
import { moduleFigures } from './plots/module.js';
import { swimFigures } from './plots/swim.js';
import { type PlotFormat, svgToPdf, svgToPng } from './plots/formats.js';
import { renderVegaLite } from './plots/render.js';
import type { Figure, FigureOptions, PlotRecipe } from './plots/style.js';
import { sweepFigures } from './plots/sweep.js';
import { tcpFigures } from './plots/tcp.js';

/** Options of {@link plotDirectory}. */
export interface PlotOptions extends FigureOptions {
  /**
   * Shown under each plot's own title, e.g. the scenario name. Default: the
   * scenario named in the folder's `sweep.json` (`scenario`) or `meta.json`
   * (`scenario.name`), else none; `''` for none.
   */
  readonly title?: string;
  /**
   * Called for each plot file that already exists in the folder: true lets it
   * be replaced, false stops with an OutputError (a file desim did not write
   * is never replaced). Default: every existing file may be replaced.
   */
  readonly replaceable?: (name: string) => boolean;
  /** Where to write the plot files. Default: the folder the CSVs are read from. */
  readonly into?: string;
  /** The file formats of each figure, in this order. Default: `['svg']`. */
  readonly formats?: readonly PlotFormat[];
  /** Also write each figure's Vega-Lite spec, data inline, as `<name>.vl.json` (for restyling). Default: false. */
  readonly spec?: boolean;
  /**
   * Draws the figures, e.g. on a sweep's workers: all are handed out at
   * once and written in their fixed order when every one is drawn. Default:
   * {@link drawFigure} in this thread, one figure at a time.
   */
  readonly renderer?: FigureRenderer;
}

/**
 * Draws one figure: its Vega-Lite spec (data inline) in, the content of its
 * file in each of `formats` out, in that order. Must give exactly what
 * {@link drawFigure} gives.
 */
export type FigureRenderer = (spec: object, formats: readonly PlotFormat[]) => Promise<readonly (string | Uint8Array)[]>;

/**
 * Draws one figure in each of `formats` (SVG text; PNG and PDF bytes), in
 * that order: what {@link plotDirectory} writes for it. The same spec gives
 * the same bytes in any thread and whatever was drawn before.
 */
export async function drawFigure(spec: object, formats: readonly PlotFormat[]): Promise<(string | Buffer)[]> {
  const svg = await renderVegaLite(spec);
  const out: (string | Buffer)[] = [];
  for (const format of formats) out.push(format === 'svg' ? svg : format === 'png' ? await svgToPng(svg) : await svgToPdf(svg));
  return out;
}

/** The recipes, in the order their figures are written. */
const RECIPES: readonly PlotRecipe[] = [tcpFigures, gossipFigures, moduleFigures, swimFigures, sweepFigures];

/**
 * Renders every plot that the CSV files in `dir` support and writes
 * `<name>.svg` (and the other {@link PlotOptions.formats}) next to them,
 * atomically (temporary file + rename).
 * @returns the written file names (not paths), in a fixed order: figure by
 *   figure (`cwnd`, `infection`, `calls`, then one per sweep metric in `sweep.json`
 *   order), each in the order of `formats`, then its `.vl.json`
 */
export async function plotDirectory(dir: string, options: PlotOptions = {}): Promise<string[]> {
  options = withFolderDefaults(dir, options);
  const written: string[] = [];
  const emit = (name: string, content: string | Uint8Array): void => {
    const path = join(options.into ?? dir, name);
    if (options.replaceable !== undefined && existsSync(path) && !options.replaceable(name)) {
      throw new OutputError(path, `exists and desim did not write it; move it away to let desim draw ${name}`);
    }
    writeFileAtomic(path, content);
    written.push(name);
  };
  const formats = options.formats ?? ['svg'];
  const figures = await figuresOf(dir, options);
  const renderer = options.renderer;
  // With a renderer (a sweep's workers) every figure is in flight at once; here, one at a time.
  const drawn = renderer === undefined ? undefined : await Promise.all(figures.map((f) => renderer(f.spec, formats)));
  for (const [i, figure] of figures.entries()) {
    const files = drawn?.[i] ?? (await drawFigure(figure.spec, formats));
    formats.forEach((format, k) => emit(`${figure.name}.${format}`, files[k] as string | Uint8Array));
    if (options.spec === true) emit(`${figure.name}.vl.json`, `${JSON.stringify(figure.spec, null, 2)}\n`);
  }
  return written;
}

/** `options` with the title and scenario recorded in the folder filled in where not given. */
function withFolderDefaults(dir: string, options: PlotOptions): PlotOptions {
  if (options.title === undefined) {
    const title = titleFromFolder(dir);
    if (title !== undefined) options = { ...options, title };
  }
  if (options.scenario === undefined) {
    const scenario = readRecordedScenario(dir);
    if (scenario !== undefined) options = { ...options, scenario };
  }
  return options;
}

async function figuresOf(dir: string, options: PlotOptions): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const recipe of RECIPES) out.push(...(await recipe(dir, options)));
  return out;
}

/**
 * Every figure the CSV files in `dir` support, as Vega-Lite specs with data
 * inline, from the same recipes and in the same order as {@link plotDirectory}
 * draws them (used by `desim report`).
 */
export async function plotFigures(dir: string, options: PlotOptions = {}): Promise<Figure[]> {
  return figuresOf(dir, withFolderDefaults(dir, options));
}

/**
 * The scenario name recorded in the folder (`sweep.json` → `scenario`, else
 * `meta.json` → `scenario.name`), so `desim plot DIR` redraws exactly what the
 * run or sweep drew. Undefined when neither file names one.
 */
function titleFromFolder(dir: string): string | undefined {
  const fromJson = (name: string, pick: (j: Record<string, unknown>) => unknown): string | undefined => {
    const path = join(dir, name);
    if (!existsSync(path)) return undefined;
    try {
      const value = pick(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>);
      return typeof value === 'string' && value !== '' ? value : undefined;
    } catch {
      return undefined; // a damaged file only costs the subtitle
    }
  };
  return (
    fromJson('sweep.json', (j) => j['scenario']) ?? fromJson('meta.json', (j) => (j['scenario'] as Record<string, unknown> | undefined)?.['name'])
  );
}

/**
 * The resolved scenario recorded in the folder's `meta.json` (a run's), so
 * that `desim plot DIR` draws the same fault bands and node rows as the run.
 * Undefined without a readable one.
 */
export function readRecordedScenario(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, 'meta.json');
  if (!existsSync(path)) return undefined;
  try {
    const scenario = (JSON.parse(readFileSync(path, 'utf8')) as { scenario?: unknown }).scenario;
    return typeof scenario === 'object' && scenario !== null && !Array.isArray(scenario) ? (scenario as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // a damaged meta.json only costs the fault bands and the node rows
  }
}
