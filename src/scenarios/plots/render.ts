/**
 * The renderer: a Vega-Lite spec in, SVG text out, headlessly.
 *
 * Vega-Lite compiles the spec to Vega; a Vega `View` with renderer `none`
 * draws it with `toSVG()` (no canvas; text is measured from Helvetica metrics,
 * see `text.ts`). vega and vega-lite are loaded on first use. The recipes
 * (`tcp.ts`, `gossip.ts`, `sweep.ts`) build the specs; `style.ts` gives them
 * one look.
 */
import type { TopLevelSpec } from 'vega-lite';
import { installTextMetrics } from './text.js';

/** Options of {@link renderVegaLite}. */
export interface RenderOptions {
  /** Receives Vega-Lite / Vega warnings (the library never prints). Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

type Engines = { readonly vega: typeof import('vega'); readonly compile: typeof import('vega-lite').compile };
let engines: Promise<Engines> | undefined;

/**
 * Loads vega and vega-lite on first use (about 0.2 s of import time that runs,
 * sweep workers and CLI commands which do not plot should not pay), and
 * installs the text measure.
 */
function loadEngines(): Promise<Engines> {
  engines ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => {
    installTextMetrics(vega);
    return { vega, compile: vegaLite.compile };
  });
  return engines;
}

/** Loads vega and vega-lite now (a sweep's idle worker does, before its figures arrive). */
export async function preloadRenderer(): Promise<void> {
  await loadEngines();
}

/**
 * Compiles a Vega-Lite spec to Vega and renders it to SVG text, headlessly.
 * Deterministic: the same spec gives byte-identical SVG, whatever was rendered
 * before and whether or not the optional `canvas` package is installed (text
 * is measured with Helvetica metrics). The spec is used as given (Vega's
 * defaults apply: transparent background, sans-serif); the recipes of
 * {@link plotDirectory} set a white background and Helvetica/Arial.
 * @param spec a Vega-Lite top-level spec, data inline
 * @returns the SVG document, ending with a newline
 * @throws Error when Vega-Lite or Vega reports an error
 */
export async function renderVegaLite(spec: object, options: RenderOptions = {}): Promise<string> {
  const { vega, compile } = await loadEngines();
  // Vega numbers clip paths and gradients from process-wide counters: renders run one at a time, each from
  // reset counters, so an SVG never depends on what was rendered before it (or concurrently).
  const run = renderQueue.then(async () => {
    vega.resetSVGDefIds();
    const errors: string[] = [];
    const handler = (_method: string, level: string, args: unknown[]): void => {
      const message = args.map(String).join(' ');
      if (level === 'ERROR') errors.push(message);
      else options.onWarning?.(message);
    };
    const logger = vega.logger(vega.Warn, undefined, handler);
    const compiled = compile(spec as TopLevelSpec, { logger }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.Warn });
    try {
      const svg = await view.toSVG();
      if (errors.length > 0) throw new Error(`plot: Vega failed: ${errors.join('; ')}`);
      return svg.endsWith('\n') ? svg : `${svg}\n`;
    } finally {
      view.finalize();
    }
  });
  renderQueue = run.catch(() => undefined);
  return run;
}

let renderQueue: Promise<unknown> = Promise.resolve();
