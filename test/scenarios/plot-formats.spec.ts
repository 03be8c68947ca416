import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { plotDirectory } from '../../src/scenarios/plot.js';
import { parseFormats, PNG_SCALE, svgSize, svgToPdf, svgToPng } from '../../src/scenarios/plots/formats.js';
import { writeCwndTrace } from './fixtures/plot/make-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'desim-formats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const d = join(root, `d${dirCount++}`);
  mkdirSync(d);
  return d;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk (right after the signature). */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The page content of a PDF: every Flate stream inflated, concatenated. */
function pdfContent(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  let out = '';
  const starts = /(?<!end)stream\r?\n/g;
  for (let m = starts.exec(text); m !== null; m = starts.exec(text)) {
    const from = m.index + m[0].length;
    const to = text.indexOf('endstream', from);
    try {
      out += inflateSync(pdf.subarray(from, to)).toString('latin1');
    } catch {
      // not a Flate stream (e.g. a font's metrics): skip it
    }
    starts.lastIndex = to + 'endstream'.length;
  }
  return out;
}

/** The characters a PDF content stream shows with `<hex> Tj`, joined (svg-to-pdfkit places glyphs one by one). */
function pdfShownText(content: string): string {
  return [...content.matchAll(/<([0-9a-f]+)> Tj/g)].map((m) => Buffer.from(m[1] ?? '', 'hex').toString('latin1')).join('');
}

describe('--format parsing', () => {
  it('accepts svg, png and pdf in any order, case-insensitive', () => {
    expect(parseFormats('svg')).toEqual({ ok: true, formats: ['svg'] });
    expect(parseFormats('PDF, png')).toEqual({ ok: true, formats: ['pdf', 'png'] });
  });

  it('refuses unknown, empty and repeated formats with a message', () => {
    for (const bad of ['jpg', '', 'svg,,png', 'svg,svg']) {
      const r = parseFormats(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toContain(JSON.stringify(bad));
    }
  });
});

describe('PNG and PDF from the SVG', () => {
  const dir = freshDir();
  writeCwndTrace(dir, { flows: 1, rtts: 20, lossProb: 0.02, timeoutProb: 0.2 });
  const drawn = plotDirectory(dir, { title: 'formats', formats: ['svg', 'png', 'pdf'], spec: true });

  it('writes every format of each figure, then its Vega-Lite spec', async () => {
    expect(await drawn).toEqual(['cwnd.svg', 'cwnd.png', 'cwnd.pdf', 'cwnd.vl.json']);
    const spec = JSON.parse(readFileSync(join(dir, 'cwnd.vl.json'), 'utf8')) as { $schema: string; datasets: { lines: unknown[] } };
    expect(spec.$schema).toContain('vega-lite');
    expect(spec.datasets.lines.length).toBeGreaterThan(10);
  });

  it('PNG: the signature, and the SVG size times the scale', async () => {
    await drawn;
    const svg = readFileSync(join(dir, 'cwnd.svg'), 'utf8');
    const png = readFileSync(join(dir, 'cwnd.png'));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const { width, height } = svgSize(svg);
    expect(pngSize(png)).toEqual({ width: Math.ceil(width * PNG_SCALE), height: Math.ceil(height * PNG_SCALE) });
    // Not a blank page: a white-only image of that size compresses to a few kB.
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('PDF: %PDF, one page the size of the figure, vector paths and the text in Helvetica', async () => {
    await drawn;
    const svg = readFileSync(join(dir, 'cwnd.svg'), 'utf8');
    const pdf = readFileSync(join(dir, 'cwnd.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { width, height } = svgSize(svg);
    expect(pdf.toString('latin1')).toContain(`/MediaBox [0 0 ${width} ${height}]`);
    expect(pdf.toString('latin1')).toContain('/BaseFont /Helvetica');
    const content = pdfContent(pdf);
    // Lines are drawn as paths (moveto/lineto, stroked), not as an embedded image.
    expect((content.match(/ l\n/g) ?? []).length).toBeGreaterThan(100);
    expect(content).not.toContain(' Do\n');
    const shown = pdfShownText(content);
    for (const text of ['Congestion window', 'Time (RTTs)', 'Congestion window (packets)', 'ssthresh', 'formats']) expect(shown).toContain(text);
  });

  it('the same SVG gives the same PNG and PDF bytes (no date, no random ID)', async () => {
    await drawn;
    const svg = readFileSync(join(dir, 'cwnd.svg'), 'utf8');
    expect(await svgToPdf(svg)).toEqual(readFileSync(join(dir, 'cwnd.pdf')));
    expect(await svgToPng(svg)).toEqual(readFileSync(join(dir, 'cwnd.png')));
  });

  it('writes only the formats asked for', async () => {
    const d = freshDir();
    writeCwndTrace(d, { flows: 1, rtts: 10, lossProb: 0.02, timeoutProb: 0 });
    expect(await plotDirectory(d, { formats: ['pdf'] })).toEqual(['cwnd.pdf']);
  });
});
