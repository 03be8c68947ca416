/**
 * `desim table`: the LaTeX table's structure (booktabs rules, one cell per
 * column in every row, units in the header, mean ± CI half-width), Markdown
 * and CSV, and compiling the LaTeX in a minimal document where pdflatex is
 * installed (skipped with a printed reason elsewhere; CI does not install TeX).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenarios/errors.js';
import { formatWithCi, latexText, tableOfFolder, unitOf } from '../../src/scenarios/table.js';

const dir = mkdtempSync(join(tmpdir(), 'desim-table-'));
const sweep = join(dir, 'sweep');
const run = join(dir, 'run');
mkdirSync(sweep);
mkdirSync(run);
writeFileSync(
  join(sweep, 'sweep.json'),
  JSON.stringify({ vary: ['protocol.tcp.bottleneck.loss', 'protocol.tcp.flows[0].variant'], metrics: ['goodput_bps', 'timeouts', 'mean_rtt_s'] }),
);
writeFileSync(
  join(sweep, 'aggregate.csv'),
  [
    'protocol.tcp.bottleneck.loss,protocol.tcp.flows[0].variant,runs,goodput_bps_mean,goodput_bps_sd,goodput_bps_ci95_lo,goodput_bps_ci95_hi,timeouts_mean,timeouts_sd,timeouts_ci95_lo,timeouts_ci95_hi,mean_rtt_s_mean,mean_rtt_s_sd,mean_rtt_s_ci95_lo,mean_rtt_s_ci95_hi',
    '0.001,reno,5,4608830.67,29319.4756,4345409.87,4872251.46,0,0,0,0,0.100031448,7.9e-7,0.100024269,0.100038626',
    '0.05,new_reno&co,5,397412,15000,200773.944,594050.056,15.5,0.7,9.147,21.853,0.1000155,6e-7,0.1000093,0.1000217',
    '',
  ].join('\n'),
);
writeFileSync(join(run, 'summary.csv'), 'scenario,seed,replication,goodput_bps,timeouts,residue_frac\ntcp-original,1,0,879912.5,0,0.0125\n');

/** Splits a LaTeX row on & that are not escaped. */
const cells = (row: string): string[] =>
  row
    .replace(/\s*\\\\$/, '')
    .split(/(?<!\\)&/)
    .map((c) => c.trim());

describe('desim table', () => {
  it('writes a booktabs tabular: rules in order, one cell per column in every row, units in the header, mean ± CI', async () => {
    const tex = await tableOfFolder(sweep, { format: 'latex', metrics: ['goodput_bps', 'timeouts', 'mean_rtt_s'] });
    const lines = tex
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('%'));
    expect(lines[0]).toBe('\\begin{tabular}{rlrrrr}');
    expect(lines[1]).toBe('\\toprule');
    expect(lines[3]).toBe('\\midrule');
    expect(lines.at(-2)).toBe('\\bottomrule');
    expect(lines.at(-1)).toBe('\\end{tabular}');
    const body = lines.slice(4, -2);
    expect(body).toHaveLength(2);
    for (const row of [lines[2] as string, ...body]) {
      expect(row.endsWith(' \\\\')).toBe(true);
      expect(cells(row)).toHaveLength(6);
    }
    expect(cells(lines[2] as string)).toEqual(['loss', 'flows{[}0{]}.variant', 'runs', 'goodput {[}Mbit/s{]}', 'timeouts', 'mean rtt {[}s{]}']);
    // goodput in Mbit/s: 4.6088 ± 0.2634 -> two significant digits of the half-width.
    expect(cells(body[0] as string)).toEqual(['0.001', 'reno', '5', '$4.61 \\pm 0.26$', '$0$', '$0.1000314 \\pm 0.0000072$']);
    // Text cells are escaped.
    expect(cells(body[1] as string)[1]).toBe('new\\_reno\\&co');
    expect(cells(body[1] as string)[3]).toBe('$0.40 \\pm 0.20$');
  });

  it('writes Markdown and CSV (full precision, base units, one half-width column per metric)', async () => {
    const md = await tableOfFolder(sweep, { format: 'markdown', metrics: ['goodput_bps'] });
    expect(md.split('\n').slice(0, 4)).toEqual([
      '| loss | flows[0].variant | runs | goodput [Mbit/s] |',
      '|---:|---|---:|---:|',
      '| 0.001 | reno | 5 | 4.61 ± 0.26 |',
      '| 0.05 | new_reno&co | 5 | 0.40 ± 0.20 |',
    ]);
    const csv = await tableOfFolder(sweep, { format: 'csv', metrics: ['timeouts'] });
    expect(csv).toBe(
      'protocol.tcp.bottleneck.loss,protocol.tcp.flows[0].variant,runs,timeouts_mean,timeouts_ci95_half\n0.001,reno,5,0,0\n0.05,new_reno&co,5,15.5,6.353\n',
    );
  });

  it('gives a run folder one row per metric, and refuses unknown metrics with a did-you-mean', async () => {
    const md = await tableOfFolder(run, { format: 'markdown' });
    expect(md).toBe(
      '| metric | unit | value |\n|---|---|---:|\n| goodput | kbit/s | 879.9 |\n| timeouts |  | 0 |\n| residue | fraction | 0.0125 |\n',
    );
    await expect(tableOfFolder(run, { format: 'latex', metrics: ['goodput'] })).rejects.toThrow(ScenarioError);
    await expect(tableOfFolder(run, { format: 'latex', metrics: ['goodput'] })).rejects.toThrow(
      'goodput: unknown metric; did you mean "goodput_bps"?',
    );
    await expect(tableOfFolder(dir, { format: 'latex' })).rejects.toThrow('holds neither aggregate.csv');
  });

  it('shows the unit of every gossip and SWIM metric of a run, byte counts scaled', async () => {
    const gossip = join(dir, 'gossip-run');
    mkdirSync(gossip);
    writeFileSync(
      join(gossip, 'summary.csv'),
      'scenario,seed,replication,sent_bytes,sent_per_node_bytes,messages_per_member_period,sent_bytes_per_member_period,detection_time_mean_periods\ng,1,0,1234567,41152.23,2.05,65.6,1.77\n',
    );
    const md = await tableOfFolder(gossip, { format: 'markdown' });
    expect(md.split('\n').slice(2, 7)).toEqual([
      '| sent | MB | 1.235 |',
      '| sent per node | kB | 41.15 |',
      '| messages | 1/member-period | 2.05 |',
      '| sent | B/member-period | 65.6 |',
      '| detection time mean | periods | 1.77 |',
    ]);
  });

  it('reads units from suffixes and rounds to the CI', () => {
    expect(unitOf('goodput_bps').label).toBe('bit/s');
    expect(unitOf('t_last_s')).toEqual({ label: 's', core: 't_last', scalable: false });
    expect(unitOf('cwnd_pkts').label).toBe('packets');
    expect(unitOf('residue_frac').label).toBe('fraction');
    expect(unitOf('jain_index').label).toBe('');
    expect(unitOf('sent_bytes')).toEqual({ label: 'B', core: 'sent', scalable: true });
    expect(unitOf('sent_bytes_per_member_period')).toEqual({ label: 'B/member-period', core: 'sent', scalable: true });
    expect(unitOf('messages_per_member_period')).toEqual({ label: '1/member-period', core: 'messages', scalable: false });
    expect(unitOf('false_deaths_per_member_hour')).toEqual({ label: '1/member-hour', core: 'false_deaths', scalable: false });
    expect(unitOf('detection_time_mean_periods')).toEqual({ label: 'periods', core: 'detection_time_mean', scalable: false });
    expect(formatWithCi(12.3456, 0.0123)).toEqual({ mean: '12.346', half: '0.012' });
    expect(formatWithCi(1234.5, 260)).toEqual({ mean: '1230', half: '260' });
    expect(formatWithCi(1234.5, 4)).toEqual({ mean: '1234.5', half: '4.0' });
    expect(formatWithCi(3, NaN)).toEqual({ mean: '3' });
    expect(latexText('a_b%c[1]')).toBe('a\\_b\\%c{[}1{]}');
  });

  const pdflatex = spawnSync('pdflatex', ['--version'], { encoding: 'utf8' });
  const haveTex = pdflatex.status === 0;
  if (!haveTex) console.log('table.spec: pdflatex not found: skipping the LaTeX compile test (CI does not install TeX)');
  it.skipIf(!haveTex)('compiles in a minimal LaTeX document', async () => {
    const tex = await tableOfFolder(sweep, { format: 'latex' });
    const doc = join(dir, 'doc.tex');
    writeFileSync(doc, `\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n${tex}\\end{document}\n`);
    const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
    expect(existsSync(join(dir, 'doc.pdf'))).toBe(true);
  });
});
