/**
 * `--format` on run, sweep and plot, and `plot --spec`, through the built CLI
 * (dist/; npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-formats-cli-'));

function desim(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const magic = (path: string, n: number): string => readFileSync(path).subarray(0, n).toString('latin1');

describe('figure formats on the command line', () => {
  it('run --format svg,png,pdf writes the three files of each figure and lists them in meta.json', () => {
    const r = desim(['run', 'tcp-original', '--format', 'svg,png,pdf', '--out', 'run']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const f of ['cwnd.svg', 'cwnd.png', 'cwnd.pdf']) expect(r.out).toContain(f);
    expect(magic(join(dir, 'run', 'cwnd.png'), 4)).toBe('\x89PNG');
    expect(magic(join(dir, 'run', 'cwnd.pdf'), 5)).toBe('%PDF-');
    const meta = JSON.parse(readFileSync(join(dir, 'run', 'meta.json'), 'utf8')) as { files: string[] };
    expect(meta.files).toEqual(expect.arrayContaining(['cwnd.svg', 'cwnd.png', 'cwnd.pdf']));
  });

  it('plot --format pdf --spec redraws into the run folder and writes the Vega-Lite JSON', () => {
    const r = desim(['plot', 'run', '--format', 'pdf', '--spec']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(join('run', 'cwnd.vl.json'));
    const spec = JSON.parse(readFileSync(join(dir, 'run', 'cwnd.vl.json'), 'utf8')) as Record<string, unknown>;
    expect(spec['$schema']).toBe('https://vega.github.io/schema/vega-lite/v6.json');
    // The folder is still desim's: a later run may replace it.
    expect(desim(['run', 'tcp-original', '--out', 'run']).code).toBe(0);
  });

  it('sweep --format png draws PNG figures only', () => {
    const r = desim([
      'sweep',
      'tcp-original',
      '--vary',
      'protocol.tcp.bottleneck.loss=0.01,0.02',
      '--reps',
      '2',
      '--jobs',
      '1',
      '--format',
      'png',
      '--out',
      'sweep',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const files = readdirSync(join(dir, 'sweep'));
    expect(files).toContain('goodput_bps.png');
    expect(files.filter((f) => f.endsWith('.svg'))).toEqual([]);
  });

  it('refuses an unknown format with exit 2 before running anything', () => {
    for (const args of [
      ['run', 'tcp-original', '--out', 'never'],
      ['plot', 'run'],
    ]) {
      const r = desim([...args, '--format', 'svg,gif']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--format: expected a comma-separated list of svg, png, pdf, got "svg,gif"');
      expect(r.err).not.toMatch(/\n\s+at .*\.js:\d+/);
    }
    expect(readdirSync(dir)).not.toContain('never');
  });
});
