/**
 * Figure file formats: the SVG the renderer draws, and PNG and PDF converted
 * from it.
 *
 * - PNG: resvg (`@resvg/resvg-js`, a Rust SVG renderer whose platform binaries
 *   are npm packages; nothing is downloaded at install) at 2 pixels per SVG
 *   unit, for slides. Glyphs come from the machine's fonts (Helvetica, Arial
 *   or a metric twin such as Liberation Sans, else the default sans-serif), so
 *   PNG bytes are the same on machines with the same fonts.
 * - PDF: pdfkit + svg-to-pdfkit (pure JavaScript), vector paths and text in
 *   the standard Helvetica font, one page the size of the figure (1 SVG unit =
 *   1 pt), for LaTeX. No date and no random ID are written, so the same SVG
 *   gives the same PDF bytes.
 *
 * Both libraries are loaded on first use.
 */

/** The figure formats desim writes. */
export const PLOT_FORMATS = ['svg', 'png', 'pdf'] as const;
/** One figure format. */
export type PlotFormat = (typeof PLOT_FORMATS)[number];

/** PNG pixels per SVG unit: 2 gives about 1270 × 960 px for a figure, sharp on slides and high-DPI screens. */
export const PNG_SCALE = 2;

/**
 * Parses `--format`: a comma-separated list of {@link PLOT_FORMATS}, each at
 * most once, in the order given.
 * @returns the formats, or a message naming what is wrong
 */
export function parseFormats(text: string): { ok: true; formats: PlotFormat[] } | { ok: false; message: string } {
  const items = text.split(',').map((s) => s.trim().toLowerCase());
  const formats: PlotFormat[] = [];
  for (const item of items) {
    if (!(PLOT_FORMATS as readonly string[]).includes(item)) {
      return { ok: false, message: `expected a comma-separated list of ${PLOT_FORMATS.join(', ')}, got ${JSON.stringify(text)}` };
    }
    if (formats.includes(item as PlotFormat)) return { ok: false, message: `${item} is listed twice in ${JSON.stringify(text)}` };
    formats.push(item as PlotFormat);
  }
  return { ok: true, formats };
}

/** Width and height of an SVG document from its root element's attributes (SVG units). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
  if (!(width > 0) || !(height > 0)) throw new Error('plot: the SVG has no width and height');
  return { width, height };
}

type ResvgModule = typeof import('@resvg/resvg-js');
let resvg: Promise<ResvgModule> | undefined;

/**
 * Draws an SVG to PNG, {@link PNG_SCALE} pixels per SVG unit, white where the
 * SVG is.
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  resvg ??= import('@resvg/resvg-js');
  const { Resvg } = await resvg;
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans', sansSerifFamily: 'Liberation Sans' },
  });
  return r.render().asPng();
}

type PdfModules = { readonly PDFDocument: typeof import('pdfkit'); readonly svgToPdfKit: SvgToPdfKit };
type SvgToPdfKit = (doc: PDFKit.PDFDocument, svg: string, x: number, y: number, options?: Record<string, unknown>) => void;
let pdfModules: Promise<PdfModules> | undefined;

/**
 * Draws an SVG to a one-page PDF of vector paths and text (1 SVG unit = 1 pt).
 */
export async function svgToPdf(svg: string): Promise<Buffer> {
  // svg-to-pdfkit ships no types: its CommonJS export is the one function typed above.
  const svgToPdfKitName: string = 'svg-to-pdfkit';
  pdfModules ??= Promise.all([import('pdfkit'), import(svgToPdfKitName) as Promise<{ default: SvgToPdfKit }>]).then(([pdf, s2p]) => ({
    PDFDocument: pdf.default,
    svgToPdfKit: s2p.default,
  }));
  const { PDFDocument, svgToPdfKit } = await pdfModules;
  const { width, height } = svgSize(svg);
  // A fixed date (pdfkit writes the time of the call otherwise) keeps the bytes a function of the SVG.
  const doc = new PDFDocument({ size: [width, height], margin: 0, info: { Producer: 'desim', Creator: 'desim', CreationDate: new Date(0) } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  svgToPdfKit(doc, solidDashesRemoved(svg), 0, 0, { assumePt: true, width, height });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Drops `stroke-dasharray` values with no gap (Vega writes `1,0` for a solid
 * line in a dashed legend): pdfkit refuses a zero dash length, and a solid
 * line needs no dash at all.
 */
function solidDashesRemoved(svg: string): string {
  return svg.replace(/ stroke-dasharray="([^"]*)"/g, (attr, value: string) => {
    const lengths = value
      .split(/[\s,]+/)
      .filter((s) => s !== '')
      .map(Number);
    return lengths.some((x, i) => i % 2 === 1 && x > 0) ? attr : '';
  });
}
