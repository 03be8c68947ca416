import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plotDirectory, readRecordedScenario } from '../../../src/scenarios/plot.js';
import { faultEpisodes, faultRows, scenarioFaultEpisodes } from '../../../src/scenarios/plots/faults.js';
import { readCwndTrace, cwndSpec } from '../../../src/scenarios/plots/tcp.js';
import { writeCwndTrace, writeInfectionTrace } from '../fixtures/plot/make-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'desim-faults-plot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const d = join(root, `d${dirCount++}`);
  mkdirSync(d);
  return d;
}

function writeMeta(dir: string, faults: unknown[], durationS: number, extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({ desim_output: 'run', scenario: { name: 'faulty', duration_s: durationS, faults, ...extra } }),
  );
}

describe('fault episodes', () => {
  it('pairs each verb with the one that ends it, or the end of the run', () => {
    const episodes = faultEpisodes(
      [
        { at_s: 1, partition: [['A'], ['B']], name: 'split' },
        { at_s: 2, hold: [['A'], ['C']] },
        { at_s: 3, crash: 'B' },
        { at_s: 4, repair: 'split' },
        { at_s: 5, release: 'all' },
        { at_s: 6, restart: 'B', keep_state: true },
        { at_s: 7, set_loss: 0.3 },
        { at_s: 8, set_loss: 0.01 },
        { at_s: 9, set_latency_ms: 80, between: ['A', 'B'] },
        { at_s: 9.5, crash: 'C' },
      ],
      12,
      { loss: 0.01, latency_ms: 1 },
    );
    expect(episodes).toEqual([
      { startS: 1, endS: 4, label: 'Partition split' },
      { startS: 2, endS: 5, label: 'Hold' },
      { startS: 3, endS: 6, label: 'Crash B' },
      // Back to the base link's loss at 8 s: the episode ends and no new one starts.
      { startS: 7, endS: 8, label: 'Loss 30%' },
      { startS: 9, endS: 12, label: 'Latency 80 ms A–B' },
      { startS: 9.5, endS: 12, label: 'Crash C' },
    ]);
  });

  it('repair: all ends every partition; a change of loss ends the previous loss episode', () => {
    expect(
      faultEpisodes(
        [
          { at_s: 1, partition: [['A'], ['B']], name: 'p1' },
          { at_s: 2, partition: [['A'], ['C']], name: 'p2' },
          { at_s: 3, set_loss: 0.2 },
          { at_s: 4, repair: 'all' },
          { at_s: 5, set_loss: { model: 'gilbert-elliott', p_good_to_bad: 0.1, p_bad_to_good: 0.5 } },
        ],
        10,
      ),
    ).toEqual([
      { startS: 1, endS: 4, label: 'Partition p1' },
      { startS: 2, endS: 4, label: 'Partition p2' },
      { startS: 3, endS: 5, label: 'Loss 20%' },
      { startS: 5, endS: 10, label: 'Loss bursts' },
    ]);
  });

  it('puts labels that would overlap on separate rows', () => {
    const rows = faultRows(
      [
        { startS: 0, endS: 1, label: 'Partition halves' },
        { startS: 0.1, endS: 2, label: 'Crash n4' },
        { startS: 50, endS: 60, label: 'Loss 5%' },
      ],
      (t) => t,
      10,
    );
    expect(rows.map((r) => r.labelY)).toEqual([3, 17, 3]);
  });

  it('reads nothing from a folder without meta.json or with a damaged one', () => {
    const dir = freshDir();
    expect(readRecordedScenario(dir)).toBeUndefined();
    expect(scenarioFaultEpisodes(undefined)).toEqual([]);
    writeFileSync(join(dir, 'meta.json'), '{not json');
    expect(readRecordedScenario(dir)).toBeUndefined();
  });
});

describe('fault bands on time plots', () => {
  it('shades and labels the faults of meta.json on the cwnd plot, converted to RTTs', async () => {
    const dir = freshDir();
    writeCwndTrace(dir, { flows: 1, rtts: 30, lossProb: 0.02, timeoutProb: 0.1 });
    writeMeta(
      dir,
      [
        { at_s: 0.5, partition: [['s'], ['r']], name: 'cut' },
        { at_s: 0.8, repair: 'cut' },
      ],
      3,
    );
    const data = await readCwndTrace(join(dir, 'trace-cwnd.csv'));
    expect(data.xInRtts).toBe(true);
    expect(data.secondsPerX).toBeCloseTo(0.1, 9);
    const spec = cwndSpec(data, {}, scenarioFaultEpisodes(readRecordedScenario(dir))) as {
      datasets: { faults: { x: number; x2: number; label: string }[] };
    };
    expect(spec.datasets.faults).toHaveLength(1);
    expect(spec.datasets.faults[0]?.x).toBeCloseTo(5, 9);
    expect(spec.datasets.faults[0]?.x2).toBeCloseTo(8, 9);
    await plotDirectory(dir);
    const svg = readFileSync(join(dir, 'cwnd.svg'), 'utf8');
    expect(svg).toContain('>Partition cut<');
    expect(svg).toContain('fill="#9e9e9e"');
  });

  it('shades faults on every panel of a small-multiple cwnd plot and labels them once', async () => {
    const dir = freshDir();
    writeCwndTrace(dir, { flows: 3, rtts: 30, lossProb: 0.02, timeoutProb: 0.1 });
    writeMeta(
      dir,
      [
        { at_s: 1, crash: 'r' },
        { at_s: 2, restart: 'r', keep_state: true },
      ],
      3,
    );
    await plotDirectory(dir);
    const svg = readFileSync(join(dir, 'cwnd.svg'), 'utf8');
    expect(svg.split('>Crash r<').length - 1).toBe(2); // the label and its white outline, in the first panel only
    expect(svg.split('fill="#9e9e9e"').length - 1).toBe(3);
  });

  it('shades faults on the client calls of a protocol module run', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'trace-calls.csv'), 'time_s,node,call,reply,error\n0.1,A,1,1,\n0.9,B,2,,node is down\n');
    writeMeta(
      dir,
      [
        { at_s: 0.3, partition: [['A'], ['B']] },
        { at_s: 0.6, repair: 'all' },
      ],
      1,
    );
    expect(await plotDirectory(dir)).toEqual(['calls.svg']);
    expect(readFileSync(join(dir, 'calls.svg'), 'utf8')).toContain('>Partition<');
  });

  it('shades faults on the infection curve', async () => {
    const dir = freshDir();
    writeInfectionTrace(dir, 1);
    writeMeta(dir, [{ at_s: 1, set_loss: 0.5 }], 10, { network: { link: { loss: 0 } } });
    await plotDirectory(dir);
    expect(readFileSync(join(dir, 'infection.svg'), 'utf8')).toContain('>Loss 50%<');
  });
});
