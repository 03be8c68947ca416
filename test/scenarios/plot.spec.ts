import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as vega from 'vega';
import { afterAll, describe, expect, it } from 'vitest';
import { toCsv } from '../../src/io/csv.js';
import { drawFigure, plotDirectory } from '../../src/scenarios/plot.js';
import { bucketKeep, MAX_TRACE_POINTS_PER_SERIES } from '../../src/scenarios/plots/data.js';
import { infectionSpec, readInfectionTrace } from '../../src/scenarios/plots/gossip.js';
import { callsSpec, readCallsTrace } from '../../src/scenarios/plots/module.js';
import { renderVegaLite } from '../../src/scenarios/plots/render.js';
import { readableName } from '../../src/scenarios/plots/style.js';
import { modelLabel, readAggregate, sweepMetricSpec } from '../../src/scenarios/plots/sweep.js';
import { cwndSpec, readCwndTrace } from '../../src/scenarios/plots/tcp.js';
import { textWidthPx } from '../../src/scenarios/plots/text.js';
import { fcParams } from '../fc.js';
import { CWND_COLUMNS, cwndRows, writeCwndTrace, writeInfectionTrace, writeSweep } from './fixtures/plot/make-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'desim-plot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const d = join(root, `d${dirCount++}`);
  mkdirSync(d);
  return d;
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** Number of non-overlapping occurrences of `needle` in `text`. */
function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function expectSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(count(svg, '<svg')).toBe(1);
  // Every opened group is closed (a cheap well-formedness check).
  expect(count(svg, '<g')).toBe(count(svg, '</g>'));
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
}

async function warningsOf(spec: object): Promise<string[]> {
  const warnings: string[] = [];
  await renderVegaLite(spec, { onWarning: (m) => warnings.push(m) });
  return warnings;
}

describe('renderVegaLite', () => {
  const spec = {
    width: 200,
    height: 100,
    data: {
      values: [
        { a: 1, b: 2 },
        { a: 2, b: 5 },
      ],
    },
    mark: 'line',
    encoding: { x: { field: 'a', type: 'quantitative', title: 'Alpha (s)' }, y: { field: 'b', type: 'quantitative' } },
  };

  it('renders SVG text headlessly, byte-identical for the same spec', async () => {
    const a = await renderVegaLite(spec);
    const b = await renderVegaLite(structuredClone(spec));
    expectSvg(a);
    expect(a).toContain('Alpha (s)');
    expect(b).toBe(a);
  });

  it('does not depend on earlier or concurrent renders (Vega numbers clip paths process-wide)', async () => {
    const clipped = {
      ...spec,
      mark: { type: 'line', clip: true },
      encoding: { ...spec.encoding, x: { ...spec.encoding.x, scale: { domain: [1, 1.5] } } },
    };
    const first = await renderVegaLite(clipped);
    expect(first).toContain('clip-path="url(#clip1)"');
    const [a, b] = await Promise.all([renderVegaLite(clipped), renderVegaLite(clipped)]);
    expect(a).toBe(first);
    expect(b).toBe(first);
  });

  it('rejects a spec Vega cannot render', async () => {
    await expect(renderVegaLite({ data: { values: [] }, mark: 'nonsense' })).rejects.toThrow();
    // The queue survives a failure.
    expectSvg(await renderVegaLite(spec));
  });

  it('reports warnings through the callback, never silently changes the plot', async () => {
    const warnings = await warningsOf({ ...spec, encoding: { ...spec.encoding, shape: { field: 'a', type: 'quantitative' } } });
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('text measurement without canvas', () => {
  it('uses proportional widths: narrow letters are narrower, bold is wider, size scales', () => {
    expect(textWidthPx('iiii', 12)).toBeLessThan(textWidthPx('MMMM', 12));
    expect(textWidthPx('Goodput', 12, true)).toBeGreaterThan(textWidthPx('Goodput', 12));
    expect(textWidthPx('Time (s)', 24)).toBeCloseTo(2 * textWidthPx('Time (s)', 12), 9);
    // Helvetica: 'Time (s)' is about 3.9 em wide; Vega's fallback (0.8 em per char) would say 6.4 em.
    expect(textWidthPx('Time (s)', 10)).toBeGreaterThan(35);
    expect(textWidthPx('Time (s)', 10)).toBeLessThan(42);
  });

  it('is what Vega uses: the figure is narrower than with the 0.8 em/char fallback', async () => {
    const spec = {
      width: 200,
      height: 100,
      data: {
        values: [
          { a: 1, b: 1000000 },
          { a: 2, b: 2000000 },
        ],
      },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative', title: 'Why' } },
    };
    const widthOf = (svg: string): number => Number(/width="(\d+)"/.exec(svg)?.[1]);
    const ours = widthOf(await renderVegaLite(spec));
    const metrics = (vega as unknown as { textMetrics: { width: unknown; estimateWidth: unknown } }).textMetrics;
    const installed = metrics.width;
    metrics.width = metrics.estimateWidth;
    let fallback: number;
    try {
      fallback = widthOf(await renderVegaLite(spec));
    } finally {
      metrics.width = installed;
    }
    // y labels like "2,000,000" at 10 px: about 45 px wide in Helvetica, 72 px by the fallback estimate.
    expect(fallback - ours).toBeGreaterThan(15);
    expect(widthOf(await renderVegaLite(spec))).toBe(ours);
  });
});

describe('bucketKeep (thinning long series)', () => {
  it('keeps short series whole', () => {
    expect(bucketKeep([0, 1, 2], [5, 6, 7], 8)).toEqual([0, 1, 2]);
  });

  it('keeps at most maxPoints, in order, with the first, last, global min and global max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(1000), fc.integer({ min: -1000, max: 1000 })), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 4, max: 60 }),
        (pts, maxPoints) => {
          const sorted = [...pts].sort((a, b) => a[0] - b[0]);
          const xs = sorted.map((p) => p[0]);
          const ys = sorted.map((p) => p[1]);
          const kept = bucketKeep(xs, ys, maxPoints);
          expect(kept.length).toBeLessThanOrEqual(maxPoints);
          for (let i = 1; i < kept.length; i++) expect(kept[i]).toBeGreaterThan(kept[i - 1] as number);
          expect(kept[0]).toBe(0);
          expect(kept[kept.length - 1]).toBe(xs.length - 1);
          const keptYs = kept.map((i) => ys[i] as number);
          expect(Math.min(...keptYs)).toBe(Math.min(...ys));
          expect(Math.max(...keptYs)).toBe(Math.max(...ys));
        },
      ),
      fcParams(),
    );
  });
});

describe('cwnd.svg', () => {
  it('plots one flow against time in RTTs with ssthresh, markers and a legend', async () => {
    const dir = freshDir();
    const rows = writeCwndTrace(dir, { flows: 1, rtts: 30, lossProb: 0.02, timeoutProb: 0.15 });
    expect(await plotDirectory(dir, { title: 'reno-2pct' })).toEqual(['cwnd.svg']);
    const svg = read(dir, 'cwnd.svg');
    expectSvg(svg);
    for (const text of [
      'Congestion window',
      'reno-2pct',
      'Time (RTTs)',
      'Congestion window (packets)',
      'cwnd',
      'ssthresh',
      'Fast retransmit',
      'Timeout',
    ]) {
      expect(svg).toContain(`>${text}<`);
    }
    const fastRetransmits = rows.filter((r) => r[12] === 'fast_retransmit').length;
    const timeouts = rows.filter((r) => r[12] === 'timeout').length;
    expect(fastRetransmits).toBeGreaterThan(0);
    expect(timeouts).toBeGreaterThan(0);
    expect(count(svg, 'event: Fast retransmit"')).toBe(fastRetransmits);
    expect(count(svg, 'event: Timeout"')).toBe(timeouts);
    expect(readdirSync(dir).sort()).toEqual(['cwnd.svg', 'trace-cwnd.csv']);
  });

  it('uses seconds and a legend per flow when there are two flows', async () => {
    const dir = freshDir();
    writeCwndTrace(dir, { flows: 2, rtts: 40, lossProb: 0.01, timeoutProb: 0.1 });
    await plotDirectory(dir);
    const svg = read(dir, 'cwnd.svg');
    expectSvg(svg);
    for (const text of ['Time (s)', 'Flow 0', 'Flow 1', 'Congestion window (packets)']) expect(svg).toContain(`>${text}<`);
    expect(svg).not.toContain('Time (RTTs)');
    expect(svg).not.toContain('One panel per flow');
  });

  it('draws small multiples with more than two flows: one panel per flow, one time axis', async () => {
    const dir = freshDir();
    const rows = writeCwndTrace(dir, { flows: 4, rtts: 40, lossProb: 0.01, timeoutProb: 0.1 });
    const data = await readCwndTrace(join(dir, 'trace-cwnd.csv'));
    const spec = cwndSpec(data) as {
      vconcat: { title: { text: string }; layer: { transform: { filter: unknown }[]; encoding: { x: { axis?: unknown } } }[] }[];
      resolve: unknown;
    };
    expect(spec.vconcat.map((p) => p.title.text)).toEqual(['Flow 0', 'Flow 1', 'Flow 2', 'Flow 3']);
    spec.vconcat.forEach((panel, k) => {
      for (const l of panel.layer) expect(l.transform[0]?.filter).toEqual({ field: 'flow', equal: `Flow ${k}` });
      // Only the bottom panel labels the shared time axis.
      expect(panel.layer[0]?.encoding.x.axis).toEqual(k === 3 ? undefined : { title: null, labels: false });
    });
    expect(spec.resolve).toEqual({ scale: { x: 'shared', y: 'independent' } });
    expect(await warningsOf(spec)).toEqual([]);
    await plotDirectory(dir);
    const svg = read(dir, 'cwnd.svg');
    expectSvg(svg);
    expect(count(svg, '>Time (s)<')).toBe(1);
    expect(count(svg, '>cwnd (packets)<')).toBe(4);
    expect(svg).toContain('>One panel per flow; shared time axis<');
    // Every marker is still drawn, in its flow's panel.
    expect(count(svg, 'event: Fast retransmit"')).toBe(rows.filter((r) => r[12] === 'fast_retransmit').length);
  });

  it('omits legend entries for events that never happen', async () => {
    const dir = freshDir();
    writeCwndTrace(dir, { flows: 1, rtts: 20, lossProb: 0.01, timeoutProb: 0 });
    await plotDirectory(dir);
    const svg = read(dir, 'cwnd.svg');
    expect(svg).toContain('>Fast retransmit<');
    expect(svg).not.toContain('Timeout');
  });

  it('thins a long trace per flow but keeps every fast retransmit and timeout', async () => {
    const dir = freshDir();
    const rows = writeCwndTrace(dir, { flows: 2, rtts: 3000, lossProb: 0.002, timeoutProb: 0.05, maxCwndPkts: 40 });
    expect(rows.length).toBeGreaterThan(100_000);
    const data = await readCwndTrace(join(dir, 'trace-cwnd.csv'));
    expect(data.totalRows).toBe(rows.length);
    expect(data.xInRtts).toBe(false);
    for (const flow of ['0', '1']) {
      const kept = data.rows.filter((r) => r.flow === flow);
      const bulk = kept.filter((r) => r.event === 'ack' || r.event === 'dupack' || r.event === 'drop');
      expect(bulk.length).toBeLessThanOrEqual(MAX_TRACE_POINTS_PER_SERIES);
      for (const event of ['fast_retransmit', 'timeout', 'recovery_exit']) {
        const want = rows.filter((r) => String(r[2]) === flow && r[12] === event).map((r) => Number(r[0]));
        const got = kept.filter((r) => r.event === event).map((r) => r.x);
        expect(got).toEqual(want);
      }
      // The thinned series keeps the extremes of the window.
      const allCwnd = rows.filter((r) => String(r[2]) === flow).map((r) => Number(r[3]));
      const keptCwnd = kept.map((r) => r.cwndPkts);
      expect(Math.max(...keptCwnd)).toBe(Math.max(...allCwnd));
      expect(Math.min(...keptCwnd)).toBe(Math.min(...allCwnd));
    }
    await plotDirectory(dir);
    const svg = read(dir, 'cwnd.svg');
    expectSvg(svg);
    expect(svg.length).toBeLessThan(3_000_000);
    const markers = rows.filter((r) => r[12] === 'fast_retransmit').length;
    expect(count(svg, 'event: Fast retransmit"')).toBe(markers);
  });

  it('treats an empty ssthresh cell as infinite (no dashed line before the first loss)', async () => {
    const dir = freshDir();
    const r = (t: number, cwnd: number, ssthresh: number | '', event: string): (string | number)[] => [
      t,
      t / 0.1,
      0,
      cwnd,
      cwnd * 1460,
      ssthresh,
      'slow_start',
      0,
      0,
      0,
      0.1,
      1,
      event,
    ];
    writeFileSync(
      join(dir, 'trace-cwnd.csv'),
      toCsv(CWND_COLUMNS, [r(0.1, 2, '', 'ack'), r(0.2, 4, '', 'ack'), r(0.3, 5, 2, 'fast_retransmit'), r(0.4, 2, 2, 'recovery_exit')]),
    );
    const data = await readCwndTrace(join(dir, 'trace-cwnd.csv'));
    expect(data.rows.map((x) => x.ssthreshPkts)).toEqual([NaN, NaN, 2, 2]);
    const spec = cwndSpec(data) as { datasets: { lines: { series: string; x: number }[] } };
    const ssthresh = spec.datasets.lines.filter((l) => l.series === 'ssthresh');
    expect(ssthresh.map((l) => l.x)).toEqual([3, 4]);
    expect(await warningsOf(spec)).toEqual([]);
  });

  it('writes nothing for a trace without rows', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'trace-cwnd.csv'), toCsv(CWND_COLUMNS, []));
    expect(await plotDirectory(dir)).toEqual([]);
    expect(existsSync(join(dir, 'cwnd.svg'))).toBe(false);
  });
});

describe('infection.svg', () => {
  it('plots one key without a legend, y from 0 to 1', async () => {
    const dir = freshDir();
    writeInfectionTrace(dir, 1);
    expect(await plotDirectory(dir, { title: 'a<b & "c"' })).toEqual(['infection.svg']);
    const svg = read(dir, 'infection.svg');
    expectSvg(svg);
    expect(svg).toContain('>a&lt;b &amp; "c"<');
    for (const text of ['Time (s)', 'Fraction of live nodes with newest version', 'Key: temperature', '0.0', '1.0']) {
      expect(svg).toContain(`>${text}<`);
    }
    expect(svg).not.toContain('>Key<');
  });

  it('draws the first ten keys by first appearance, with a legend', async () => {
    const dir = freshDir();
    writeInfectionTrace(dir, 12);
    const data = await readInfectionTrace(join(dir, 'trace-infection.csv'));
    expect(data.keys).toEqual(['temperature', ...Array.from({ length: 9 }, (_, i) => `key-${i + 1}`)]);
    expect(data.totalKeys).toBe(12);
    await plotDirectory(dir);
    const svg = read(dir, 'infection.svg');
    expectSvg(svg);
    for (const text of ['Key', 'temperature', 'key-9', 'First 10 of 12 keys']) expect(svg).toContain(`>${text}<`);
    expect(svg).not.toContain('>key-10<');
    expect(await warningsOf(infectionSpec(data) as object)).toEqual([]);
  });

  it('reads a trace written before its fraction column was renamed (fraction_live_holding_newest)', async () => {
    const dir = freshDir();
    writeInfectionTrace(dir, 2);
    const path = join(dir, 'trace-infection.csv');
    const text = readFileSync(path, 'utf8');
    const current = await readInfectionTrace(path);
    writeFileSync(path, text.replace('live_holding_newest_frac', 'fraction_live_holding_newest'));
    expect(await readInfectionTrace(path)).toEqual(current);
    writeFileSync(path, text.replace('live_holding_newest_frac', 'share'));
    await expect(readInfectionTrace(path)).rejects.toThrow('needs columns time_s and live_holding_newest_frac');
  });
});

describe('calls.svg (a protocol module run)', () => {
  it("counts each node's calls over time, one step line per node, and marks failed calls", async () => {
    const dir = freshDir();
    writeFileSync(
      join(dir, 'trace-calls.csv'),
      toCsv(
        ['time_s', 'node', 'call', 'reply', 'error'],
        [
          ['0.1', 'A', '{"op":"ping"}', '1', ''],
          ['0.5', 'B', '7', '', 'node is down'],
          ['0.9', 'A', '"x"', '2', ''],
        ],
      ),
    );
    const data = await readCallsTrace(join(dir, 'trace-calls.csv'));
    expect(data.nodes).toEqual(['A', 'B']);
    expect(data.rows.map((r) => [r.timeS, r.node, r.calls, r.failed])).toEqual([
      [0.1, 'A', 1, false],
      [0.9, 'A', 2, false],
      [0.5, 'B', 1, true],
    ]);
    expect(await plotDirectory(dir, { title: 'my-module' })).toEqual(['calls.svg']);
    const svg = read(dir, 'calls.svg');
    expectSvg(svg);
    for (const text of ['Client calls', 'Client calls so far', 'Time (s)', 'Node', 'A', 'B', 'my-module']) expect(svg).toContain(`>${text}<`);
    expect(await warningsOf(callsSpec(data) as object)).toEqual([]);
  });

  it('draws nothing for a trace without calls', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'trace-calls.csv'), toCsv(['time_s', 'node', 'call', 'reply', 'error'], []));
    expect(await plotDirectory(dir)).toEqual([]);
  });
});

describe('sweep plots (aggregate.csv)', () => {
  it('plots each non-model metric; goodput with both model curves on log-log axes', async () => {
    const dir = freshDir();
    writeSweep(dir, false);
    expect(await plotDirectory(dir, { title: 'tcp-mathis' })).toEqual(['goodput_bps.svg', 'timeouts.svg']);
    const goodput = read(dir, 'goodput_bps.svg');
    expectSvg(goodput);
    for (const text of ['Goodput (bit/s)', 'Bottleneck loss rate', 'Simulation', 'Mathis et al. 1997', 'Padhye et al. 1998', 'tcp-mathis']) {
      expect(goodput).toContain(`>${text}<`);
    }
    expect(goodput).toContain('>Mean of 10 runs per point; bars: 95% confidence interval<');
    // Log x axis: a labelled tick at every swept value.
    for (const p of ['0.001', '0.002', '0.005', '0.01', '0.02', '0.05']) expect(goodput).toContain(`>${p}<`);
    const timeouts = read(dir, 'timeouts.svg');
    expectSvg(timeouts);
    expect(timeouts).toContain('>Timeouts<');
    expect(timeouts).not.toContain('Mathis');

    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const spec = sweepMetricSpec(table, 'goodput_bps') as {
      layer: { encoding: { x: { scale: { type?: string } }; y: { scale: { type?: string } } } }[];
    };
    for (const l of spec.layer) {
      expect(l.encoding.x.scale.type).toBe('log');
      expect(l.encoding.y.scale.type).toBe('log');
    }
    expect(await warningsOf(spec)).toEqual([]);
  });

  it('says a sweep of one run per point has no confidence interval, rather than a mean of 1 runs', async () => {
    const dir = freshDir();
    writeSweep(dir, false, true, 1);
    await plotDirectory(dir);
    const goodput = read(dir, 'goodput_bps.svg');
    expectSvg(goodput);
    expect(goodput).toContain('>One run per point, so no confidence interval (--reps 2 or more draws one)<');
    expect(goodput).not.toContain('Mean of');
  });

  it('draws one panel per value of the second varied parameter, on shared axes', async () => {
    const dir = freshDir();
    writeSweep(dir, true);
    await plotDirectory(dir);
    const svg = read(dir, 'timeouts.svg');
    expectSvg(svg);
    for (const text of ['Variant = tahoe', 'Variant = reno', 'Variant = newreno', 'one panel per variant']) expect(svg).toContain(text);
    const goodput = read(dir, 'goodput_bps.svg');
    for (const text of ['Variant = tahoe', 'Mathis et al. 1997', 'Padhye et al. 1998']) expect(goodput).toContain(`>${text}<`);
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const spec = sweepMetricSpec(table, 'goodput_bps') as { concat: { layer: { transform?: { filter: unknown }[] }[] }[]; resolve: unknown };
    expect(spec.concat).toHaveLength(3);
    // Each panel shows only its variant's points and model curves.
    for (const [k, variant] of ['tahoe', 'reno', 'newreno'].entries()) {
      for (const l of spec.concat[k]?.layer ?? []) expect(l.transform?.[0]?.filter).toEqual({ field: 'panel', equal: variant });
    }
    expect(spec.resolve).toEqual({ scale: { x: 'shared', y: 'shared' } });
    expect(await warningsOf(spec)).toEqual([]);
    expect(await warningsOf(sweepMetricSpec(table, 'timeouts') as object)).toEqual([]);
  });

  it('colours the third varied parameter within each panel', async () => {
    const dir = freshDir();
    const cols = ['protocol.loss', 'protocol.mode', 'protocol.size_bytes', 'runs', 'x_mean', 'x_sd', 'x_ci95_lo', 'x_ci95_hi'];
    const rows = [];
    for (const mode of ['push', 'pull'])
      for (const size of [1, 2])
        for (const loss of [0.1, 0.2]) rows.push([loss, mode, size, 3, loss * size, 0.1, loss * size - 0.2, loss * size + 0.2]);
    writeFileSync(join(dir, 'aggregate.csv'), toCsv(cols, rows));
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const spec = sweepMetricSpec(table, 'x') as { concat: unknown[] };
    expect(spec.concat).toHaveLength(2);
    await plotDirectory(dir);
    const svg = read(dir, 'x.svg');
    for (const text of ['Mode = push', 'Mode = pull', 'Size (bytes)']) expect(svg).toContain(`>${text}<`);
  });

  it('draws the error bars over the points, and says when they are narrower than the dots', async () => {
    const dir = freshDir();
    const cols = ['p', 'runs', 'wide_mean', 'wide_sd', 'wide_ci95_lo', 'wide_ci95_hi', 'tight_mean', 'tight_sd', 'tight_ci95_lo', 'tight_ci95_hi'];
    writeFileSync(
      join(dir, 'aggregate.csv'),
      toCsv(cols, [
        [1, 5, 10, 3, 6, 14, 10, 0.01, 9.99, 10.01],
        [2, 5, 20, 3, 16, 24, 20, 0.01, 19.99, 20.01],
      ]),
    );
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const marks = (metric: string): string[] =>
      (sweepMetricSpec(table, metric) as { layer: { mark: { type: string } }[] }).layer.map((l) => l.mark.type);
    expect(marks('wide')).toEqual(['line', 'point', 'errorbar']);
    await plotDirectory(dir);
    expect(read(dir, 'tight.svg')).toContain('bars: 95% confidence interval (narrower than the dots)');
    expect(read(dir, 'wide.svg')).not.toContain('narrower than the dots');
  });

  it('without sweep.json infers the parameters (columns before runs) and metrics (*_mean)', async () => {
    const a = freshDir();
    const b = freshDir();
    writeSweep(a, true);
    writeSweep(b, true, false);
    const files = await plotDirectory(a);
    expect(await plotDirectory(b)).toEqual(files);
    for (const f of files) expect(read(b, f)).toBe(read(a, f));
  });

  it('clips confidence intervals at 0 for metrics whose means are all >= 0, not for signed metrics', async () => {
    const dir = freshDir();
    const cols = ['p', 'runs', ...['timeouts', 'skew_s'].flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_ci95_lo`, `${m}_ci95_hi`])];
    writeFileSync(
      join(dir, 'aggregate.csv'),
      toCsv(cols, [
        [1, 3, 0.5, 1, -1.9, 2.9, -1, 1, -3, 1],
        [2, 3, 3, 1, 1, 5, 2, 1, 0, 4],
      ]),
    );
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const los = (metric: string): number[] =>
      (sweepMetricSpec(table, metric) as { datasets: { sim: { lo: number }[] } }).datasets.sim.map((p) => p.lo);
    expect(los('timeouts')).toEqual([0, 1]);
    expect(los('skew_s')).toEqual([-3, 0]);
  });

  it('does not plot a constant metric (same mean everywhere, no spread), but plots one with spread', async () => {
    const dir = freshDir();
    const cols = ['p', 'runs', ...['jain_index', 'skew_s'].flatMap((m) => [`${m}_mean`, `${m}_sd`, `${m}_ci95_lo`, `${m}_ci95_hi`])];
    writeFileSync(
      join(dir, 'aggregate.csv'),
      toCsv(cols, [
        [0.01, 3, 1, 0, 1, 1, 2, 1, 1, 3],
        [0.02, 3, 1, 0, 1, 1, 2, 1, 1, 3],
      ]),
    );
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    expect(sweepMetricSpec(table, 'jain_index')).toBeUndefined();
    expect(await plotDirectory(dir)).toEqual(['skew_s.svg']);
  });

  it('uses a linear x axis for a narrow positive range and a categorical one for strings', async () => {
    const dir = freshDir();
    const cols = [
      'network.links[0].latency_ms',
      'runs',
      'messages_per_node_mean',
      'messages_per_node_sd',
      'messages_per_node_ci95_lo',
      'messages_per_node_ci95_hi',
    ];
    writeFileSync(
      join(dir, 'aggregate.csv'),
      toCsv(cols, [
        [5, 3, 10, 1, 9, 11],
        [10, 3, 12, 1, 11, 13],
        [50, 3, 15, 2, 13, 17],
      ]),
    );
    const table = await readAggregate(join(dir, 'aggregate.csv'), join(dir, 'sweep.json'));
    const spec = sweepMetricSpec(table, 'messages_per_node') as { layer: { encoding: { x: { scale?: { type?: string }; title: string } } }[] };
    expect(spec.layer[0]?.encoding.x.scale?.type).toBeUndefined();
    expect(spec.layer[0]?.encoding.x.title).toBe('Link 0 latency (ms)');
    expect(await plotDirectory(dir)).toEqual(['messages_per_node.svg']);
    expect(read(dir, 'messages_per_node.svg')).toContain('>Messages per node<');

    const byVariant = freshDir();
    const vcols = ['protocol.tcp.variant', 'runs', 'goodput_bps_mean', 'goodput_bps_sd', 'goodput_bps_ci95_lo', 'goodput_bps_ci95_hi'];
    writeFileSync(
      join(byVariant, 'aggregate.csv'),
      toCsv(vcols, [
        ['reno', 2, 1e6, 1e4, 9e5, 1.1e6],
        ['tahoe', 2, 8e5, 1e4, 7e5, 9e5],
      ]),
    );
    await plotDirectory(byVariant);
    const svg = read(byVariant, 'goodput_bps.svg');
    expectSvg(svg);
    for (const text of ['reno', 'tahoe', 'Variant', 'Goodput (bit/s)']) expect(svg).toContain(`>${text}<`);
  });
});

describe('names and determinism', () => {
  it('derives readable titles and model labels', () => {
    expect(readableName('goodput_bps')).toBe('Goodput (bit/s)');
    expect(readableName('protocol.tcp.bottleneck.loss')).toBe('Bottleneck loss rate');
    expect(readableName('mean_rtt_s')).toBe('Mean RTT (s)');
    expect(readableName('residue_frac')).toBe('Residue (fraction)');
    expect(readableName('goodput_over_padhye')).toBe('Goodput / Padhye');
    // An indexed parent says which one: a per-flow parameter names its flow.
    expect(readableName('protocol.tcp.flows[3].extra_rtt_ms')).toBe('Flow 3 extra RTT (ms)');
    expect(readableName('protocol.tcp.flows[0].variant')).toBe('Flow 0 variant');
    expect(modelLabel('model_mathis_bps')).toBe('Mathis et al. 1997');
    expect(modelLabel('model_padhye_bps')).toBe('Padhye et al. 1998');
    expect(modelLabel('model_cubic_bps')).toBe('Model: Cubic');
  });

  it('gives byte-identical SVGs for the same CSVs, in another folder and on a second run', async () => {
    const a = freshDir();
    const b = freshDir();
    for (const d of [a, b]) {
      writeCwndTrace(d, { flows: 2, rtts: 50, lossProb: 0.01, timeoutProb: 0.1 });
      writeInfectionTrace(d, 3);
      writeSweep(d, true);
    }
    const files = await plotDirectory(a, { title: 'same' });
    expect(files).toEqual(['cwnd.svg', 'infection.svg', 'goodput_bps.svg', 'timeouts.svg']);
    const first = files.map((f) => read(a, f));
    expect(await plotDirectory(a, { title: 'same' })).toEqual(files);
    expect(files.map((f) => read(a, f))).toEqual(first);
    await plotDirectory(b, { title: 'same' });
    expect(files.map((f) => read(b, f))).toEqual(first);
    expect(readdirSync(a).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('matches the golden cwnd.svg (a fresh process gives the same bytes; UPDATE_GOLDEN=1 rewrites it)', async () => {
    const golden = join(import.meta.dirname, 'fixtures', 'plot', 'golden');
    const dir = freshDir();
    copyFileSync(join(golden, 'trace-cwnd.csv'), join(dir, 'trace-cwnd.csv'));
    await plotDirectory(dir, { title: 'golden' });
    const svg = read(dir, 'cwnd.svg');
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(join(golden, 'cwnd.svg'), svg);
    expect(svg).toBe(readFileSync(join(golden, 'cwnd.svg'), 'utf8'));
  });

  it('takes the subtitle from meta.json or sweep.json, so `desim plot DIR` redraws what the run drew', async () => {
    const run = freshDir();
    writeInfectionTrace(run, 1);
    await plotDirectory(run, { title: 'gossip-original' });
    const drawnByRun = read(run, 'infection.svg');
    writeFileSync(join(run, 'meta.json'), JSON.stringify({ seed: 1, scenario: { name: 'gossip-original' } }));
    await plotDirectory(run);
    expect(read(run, 'infection.svg')).toBe(drawnByRun);
    await plotDirectory(run, { title: '' });
    expect(read(run, 'infection.svg')).not.toContain('gossip-original');

    const sweep = freshDir();
    writeSweep(sweep, false);
    writeFileSync(
      join(sweep, 'sweep.json'),
      JSON.stringify({ scenario: 'tcp-mathis-padhye', vary: ['protocol.tcp.bottleneck.loss'], metrics: ['goodput_bps'] }),
    );
    expect(await plotDirectory(sweep)).toEqual(['goodput_bps.svg']);
    expect(read(sweep, 'goodput_bps.svg')).toContain('>tcp-mathis-padhye<');
    // Model curves come from the model_*_bps columns even when sweep.json does not list them.
    expect(read(sweep, 'goodput_bps.svg')).toContain('>Mathis et al. 1997<');
  });

  it('renders nothing for a folder without known CSVs', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'summary.csv'), 'a,b\n1,2\n');
    expect(await plotDirectory(dir)).toEqual([]);
  });

  it('fixture generator is deterministic (guards the golden comparisons above)', () => {
    const o = { flows: 1, rtts: 10, lossProb: 0.05, timeoutProb: 0.2 };
    expect(cwndRows(o)).toEqual(cwndRows(o));
  });
});

describe('sweep figures: model curves of a metric other than goodput', () => {
  it('goodput_ratio carries its model_goodput_ratio_* curves; another metric none', async () => {
    const csv = 'docs/results/tcp-rtt-fairness-sweep-aggregate.csv';
    const table = await readAggregate(csv, join(freshDir(), 'sweep.json'));
    const ratio = JSON.stringify(sweepMetricSpec(table, 'goodput_ratio'));
    for (const label of [modelLabel('model_goodput_ratio_rtt1'), modelLabel('model_goodput_ratio_rtt2')]) expect(ratio).toContain(label);
    expect(modelLabel('model_goodput_ratio_rtt2')).toBe('RTT ratio squared (Lakshman, Madhow)');
    const rtt = JSON.stringify(sweepMetricSpec(table, 'rtt_ratio'));
    expect(rtt).not.toContain('Lakshman');
    expect(rtt).not.toContain('Mathis');
  });
});

describe('plotDirectory with a renderer (figures drawn elsewhere, e.g. on worker threads)', () => {
  it('hands every figure to the renderer at once and writes what it returns in the fixed order, the same bytes as drawing here', async () => {
    const a = freshDir();
    const b = freshDir();
    writeSweep(a, true);
    writeSweep(b, true);
    const formats = ['svg', 'png'] as const;
    const files = await plotDirectory(a, { formats });
    let inFlight = 0;
    let most = 0;
    let n = 0;
    const drawn = await plotDirectory(b, {
      formats,
      renderer: async (spec, f) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Later figures finish first: the order of the files must not follow.
        const delay = 40 - 10 * n++;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, delay)));
        const out = await drawFigure(spec, f);
        inFlight--;
        return out.map((x) => (typeof x === 'string' ? x : new Uint8Array(x))); // what comes back from a thread
      },
    });
    expect(drawn).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(most).toBe(files.length / formats.length);
    for (const f of files) expect(readFileSync(join(b, f)), f).toEqual(readFileSync(join(a, f)));
  });
});
