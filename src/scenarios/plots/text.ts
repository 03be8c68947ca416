/**
 * Text measurement for headless Vega rendering.
 *
 * Vega lays out axes, legends and titles from the width of their text. In a
 * browser (or with the optional `canvas` package) it measures with a canvas;
 * without one it falls back to `0.8 × fontSize` per character, which is about
 * 50% too wide for a proportional sans-serif font: y-axis titles float away
 * from their labels and legends get gaps. We install our own measure instead,
 * built from the Helvetica / Arial advance widths (Adobe AFM, units of 1/1000
 * em), and we install it whether or not a canvas exists, so the SVG does not
 * depend on what happens to be installed on the machine (same CSV in, same
 * bytes out, everywhere). The plots name `Helvetica, Arial, sans-serif` as
 * their font, so the measure matches what a viewer draws.
 */

/** Helvetica advance widths (1/1000 em) for code points 32..126. */
// prettier-ignore
const REGULAR = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '..'/'
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // '0'..'?'
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // '@'..'O'
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 'P'..'_'
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // '`'..'o'
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];

/** Helvetica-Bold advance widths (1/1000 em) for code points 32..126. */
// prettier-ignore
const BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '..'/'
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // '0'..'?'
  975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // '@'..'O'
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 'P'..'_'
  333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // '`'..'o'
  611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // 'p'..'~'
];

/** Width of characters outside the table (e.g. `±`, `×`, accented letters): an average glyph. */
const OTHER_WIDTH = 584;

/**
 * Advance width of `text` in pixels, for a Helvetica-like font.
 * @param text one line of text
 * @param fontSizePx font size in pixels
 * @param bold whether the bold face is used
 */
export function textWidthPx(text: string, fontSizePx: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 32;
    units += code >= 32 && code <= 126 ? (table[code - 32] ?? OTHER_WIDTH) : OTHER_WIDTH;
  }
  return (units * fontSizePx) / 1000;
}

/** The fields of a Vega scenegraph text item that the measure reads. */
interface TextItem {
  readonly fontSize?: number | string | null;
  readonly fontWeight?: number | string | null;
  readonly limit?: number | null;
}

interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

function isBold(weight: TextItem['fontWeight']): boolean {
  if (weight === null || weight === undefined) return false;
  if (typeof weight === 'number') return weight >= 600;
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

/** Vega's contract: width of one line of `item`'s text, after truncation to `item.limit` px. */
function measure(item: TextItem, text: unknown): number {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Vega passes any value and renders String(value)
  const line = text === null || text === undefined ? '' : String(text).trim();
  const size = item.fontSize !== null && item.fontSize !== undefined ? Number(item.fontSize) || 0 : 11;
  const width = textWidthPx(line, size, isBold(item.fontWeight));
  const limit = Number(item.limit ?? 0);
  return limit > 0 && width > limit ? limit : width;
}

let installed = false;

/**
 * Makes Vega measure text with {@link textWidthPx} (idempotent). `textMetrics`
 * is exported by vega-scenegraph (re-exported by vega) but not typed.
 * @param vega the loaded `vega` module
 */
export function installTextMetrics(vega: object): void {
  if (installed) return;
  const metrics = (vega as { textMetrics?: TextMetrics }).textMetrics;
  if (metrics === undefined) throw new Error('plot: vega.textMetrics is missing; cannot measure text headlessly');
  metrics.width = measure;
  installed = true;
}
