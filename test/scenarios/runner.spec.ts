import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioText, validateScenario } from '../../src/scenarios/loader.js';
import { parseSets, parseVaries } from '../../src/scenarios/overrides.js';
import { runScenario, withSeed } from '../../src/scenarios/runner.js';
import { mergeSweeps, planRuns, runSweep, type SweepOptions } from '../../src/scenarios/sweep.js';
import type { RunContext } from '../../src/scenarios/driver.js';
import { readAggregate } from '../../src/scenarios/plots/sweep.js';
import { tableOfFolder } from '../../src/scenarios/table.js';
import { toyDriver, toyYaml } from './toy-driver.js';

const drivers = [toyDriver];
const root = mkdtempSync(join(tmpdir(), 'desim-runner-'));
const scenario = validateScenario(parseScenarioText(toyYaml), drivers);

function readAll(dir: string, skip: (f: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    if (skip(f)) continue;
    const p = join(dir, f);
    out[f] = f === 'runs' ? JSON.stringify(readAll(p)) : readFileSync(p, 'utf8');
  }
  return out;
}

describe('runScenario', () => {
  it('writes summary, tables, traces and meta.json, and nothing else is left behind', async () => {
    const out = join(root, 'run1');
    const r = await runScenario(scenario, { outDir: out, scenarioFile: 'toy.yaml' });
    expect(readdirSync(out).sort()).toEqual(['counts.csv', 'meta.json', 'summary.csv', 'trace-pings.csv']);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const summary = readFileSync(join(out, 'summary.csv'), 'utf8').split('\n');
    expect(summary[0]).toBe('scenario,seed,replication,sent,delivered,mean_latency_s');
    expect(summary[1]).toMatch(/^toy-run,3,0,\d+,\d+,0\.\d+$/);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta['seed']).toBe(3);
    expect(meta['scenario_hash']).toBe(r.scenarioHash);
    expect((meta['scenario'] as { network: { nodes: string[] } }).network.nodes).toEqual(['A', 'B', 'C']);
    expect(readFileSync(join(out, 'trace-pings.csv'), 'utf8').split('\n')[0]).toBe('time_s,from,to,latency_s');
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    await runScenario(scenario, { outDir: join(root, 'a') });
    await runScenario(scenario, { outDir: join(root, 'b') });
    await runScenario(withSeed(scenario, 4), { outDir: join(root, 'c') });
    const a = readAll(join(root, 'a'));
    expect(readAll(join(root, 'b'))).toEqual(a);
    expect(readAll(join(root, 'c'))['trace-pings.csv']).not.toEqual(a['trace-pings.csv']);
  });

  it('leaves the previous results untouched when a run fails', async () => {
    const out = join(root, 'keep');
    await runScenario(scenario, { outDir: out });
    const before = readAll(out);
    const broken = {
      ...scenario,
      driver: {
        ...toyDriver,
        run: () => {
          throw new Error('boom');
        },
      },
    };
    await expect(runScenario(broken, { outDir: out })).rejects.toThrow('boom');
    expect(readAll(out)).toEqual(before);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('--columns safe makes the metric names a protocol chose safe in summary.csv, and refuses two that would coincide', async () => {
    const withMetrics = (extra: Record<string, number>) => ({
      ...scenario,
      driver: {
        ...toyDriver,
        run: (s: Parameters<typeof toyDriver.run>[0], ctx: RunContext) => ({ ...toyDriver.run(s, ctx), metrics: { sent: 1, ...extra } }),
      },
    });
    const out = join(root, 'safe-run');
    await runScenario(withMetrics({ 'latency p99 (s)': 0.5 }), { outDir: out, columns: 'safe' });
    expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toBe('scenario,seed,replication,sent,latency_p99_s\ntoy-run,3,0,1,0.5\n');
    expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'))).toMatchObject({ columns: 'safe' });
    const plain = join(root, 'paths-run');
    await runScenario(withMetrics({ 'latency p99 (s)': 0.5 }), { outDir: plain });
    expect(readFileSync(join(plain, 'summary.csv'), 'utf8').split('\n')[0]).toBe('scenario,seed,replication,sent,latency p99 (s)');
    await expect(runScenario(withMetrics({ 'a.b': 1, a_b: 2 }), { outDir: join(root, 'clash-run'), columns: 'safe' })).rejects.toThrow(
      /two summary\.csv columns would both be named a_b/,
    );
    expect(existsSync(join(root, 'clash-run'))).toBe(false);
  });

  it('records the input files and the figure formats of a run that draws figures, and leaves out what is the default', async () => {
    const inputs = [{ key: 'protocol.module.path', path: './m.mjs', sha256: 'a'.repeat(64) }];
    const out = join(root, 'recorded-options');
    // The toy scenario draws no figures: formats are recorded only for a run that draws them.
    await runScenario(scenario, { outDir: out, inputs, plotFormats: ['pdf', 'svg'] });
    const recorded = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(recorded).toMatchObject({ inputs });
    expect(recorded['formats']).toBeUndefined();
    const drawn = join(root, 'recorded-formats');
    await runScenario({ ...scenario, outputs: { ...scenario.outputs, plots: true } }, { outDir: drawn, plotFormats: ['pdf', 'svg'] });
    expect(JSON.parse(readFileSync(join(drawn, 'meta.json'), 'utf8'))).toMatchObject({ formats: ['pdf', 'svg'] });
    const plain = join(root, 'default-options');
    await runScenario(scenario, { outDir: plain, inputs: [], plotFormats: ['svg'] });
    const meta = JSON.parse(readFileSync(join(plain, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(meta).filter((k) => ['inputs', 'formats', 'columns'].includes(k))).toEqual([]);
  });

  it('writes only the traces the scenario asks for', async () => {
    const out = join(root, 'notrace');
    await runScenario({ ...scenario, outputs: { traces: [], plots: false } }, { outDir: out });
    expect(existsSync(join(out, 'trace-pings.csv'))).toBe(false);
  });
});

describe('sweeps', () => {
  const raw = parseScenarioText(toyYaml);
  const vary = parseVaries(['protocol.toy.pings_per_s=20,40,80', 'network.link.loss=0,0.3']);
  if (!vary.ok) throw new Error('bad vary');
  const base = (outDir: string, extra: Partial<SweepOptions> = {}): SweepOptions => ({
    raw,
    file: 'toy.yaml',
    drivers,
    sets: [],
    variations: vary.variations,
    reps: 2,
    outDir,
    jobs: 1,
    ...extra,
  });

  it('derives seeds from parameters and replication, not from run order', () => {
    const runs = planRuns(3, vary.variations, 2);
    expect(runs).toHaveLength(12);
    expect(runs[0]?.values).toEqual([20, 0]);
    expect(runs[11]?.values).toEqual([80, 0.3]);
    const other = planRuns(3, [...vary.variations].reverse(), 2);
    const seedOf = (rs: typeof runs, a: unknown, b: unknown, rep: number) =>
      rs.find((r) => r.rep === rep && r.values.includes(a) && r.values.includes(b))?.seed;
    expect(seedOf(other, 40, 0.3, 1)).toBe(seedOf(runs, 40, 0.3, 1));
    expect(new Set(runs.map((r) => r.seed)).size).toBe(12);
  });

  it('gives byte-identical summary and aggregate whether sharded and merged, interrupted and resumed, or run at once', async () => {
    const whole = join(root, 'sw-whole');
    const rep = await runSweep(base(whole));
    expect(rep.complete).toBe(true);
    const files = readAll(whole);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['aggregate.csv', 'summary.csv', 'sweep.json', 'runs']));
    expect(files['summary.csv']?.split('\n')[0]).toBe('run_id,rep,seed,protocol.toy.pings_per_s,network.link.loss,sent,delivered,mean_latency_s');
    expect(files['aggregate.csv']?.split('\n')[0]).toMatch(
      /^protocol\.toy\.pings_per_s,network\.link\.loss,runs,sent_mean,sent_sd,sent_ci95_lo,sent_ci95_hi,/,
    );
    expect(files['aggregate.csv']?.split('\n').filter((l) => l !== '')).toHaveLength(7);

    const shards = [0, 1, 2].map((i) => join(root, `sw-shard${i}`));
    for (let i = 0; i < 3; i++) {
      const r = await runSweep(base(shards[i] as string, { shard: { index: i, count: 3 } }));
      expect(r.complete).toBe(false);
      expect(existsSync(join(shards[i] as string, 'summary.csv'))).toBe(false);
    }
    const merged = join(root, 'sw-merged');
    expect((await mergeSweeps(shards, merged)).files).toEqual(['aggregate.csv', 'summary.csv', 'sweep.json']);
    expect(readAll(merged)).toEqual(files);

    const resumed = join(root, 'sw-resumed');
    let calls = 0;
    const partial = await runSweep(base(resumed, { shouldStop: () => ++calls > 5 }));
    expect(partial.complete).toBe(false);
    expect(partial.ran).toBe(5);
    const again = await runSweep(base(resumed, { resume: true }));
    expect(again.resumed).toBe(5);
    expect(again.ran).toBe(7);
    expect(readAll(resumed)).toEqual(files);
  });

  it('--columns safe names parameter columns with letters, digits and _ only; tables, plots and merge follow', async () => {
    const paths = join(root, 'sw-paths');
    const safe = join(root, 'sw-safe');
    await runSweep(base(paths));
    await runSweep(base(safe, { columns: 'safe' }));
    const p = readAll(paths);
    const s = readAll(safe);
    const rename = (t: string | undefined) =>
      t?.replace('protocol.toy.pings_per_s,network.link.loss,', 'protocol_toy_pings_per_s,network_link_loss,');
    expect(s['summary.csv']?.split('\n')[0]).toBe('run_id,rep,seed,protocol_toy_pings_per_s,network_link_loss,sent,delivered,mean_latency_s');
    expect(s['summary.csv']).toBe(rename(p['summary.csv']));
    expect(s['aggregate.csv']).toBe(rename(p['aggregate.csv']));
    expect(JSON.parse(s['sweep.json'] ?? '{}')).toMatchObject({ columns: 'safe', vary: ['protocol.toy.pings_per_s', 'network.link.loss'] });
    expect(JSON.parse(p['sweep.json'] ?? '{}')).not.toHaveProperty('columns');
    // The figures and the LaTeX table name the parameters as before; the table's CSV keeps the folder's names.
    expect((await readAggregate(join(safe, 'aggregate.csv'), join(safe, 'sweep.json'))).vary).toEqual([
      'protocol.toy.pings_per_s',
      'network.link.loss',
    ]);
    const body = async (d: string) => (await tableOfFolder(d, { format: 'latex' })).split('\n').filter((l) => !l.startsWith('%'));
    expect(await body(safe)).toEqual(await body(paths));
    const csv = await tableOfFolder(safe, { format: 'csv' });
    expect(csv.split('\n')[0]).toMatch(/^protocol_toy_pings_per_s,network_link_loss,runs,sent_mean,sent_ci95_half,/);
    expect(csv).toBe(rename(await tableOfFolder(paths, { format: 'csv' })));
    // A merge can choose either style whatever its shards recorded.
    const merged = join(root, 'sw-safe-merged');
    await mergeSweeps([paths], merged, { columns: 'safe' });
    expect(readAll(merged)['aggregate.csv']).toBe(s['aggregate.csv']);
    const back = join(root, 'sw-paths-merged');
    await mergeSweeps([safe], back, { columns: 'paths' });
    expect(readAll(back)['summary.csv']).toBe(p['summary.csv']);
    expect(JSON.parse(readAll(back)['sweep.json'] ?? '{}')).not.toHaveProperty('columns');
  });

  it('--columns safe refuses two parameters that would share a column, before running anything', async () => {
    const clash = parseVaries(['protocol.toy.pings_per_s=20,40', 'protocol.toy.pings.per_s=1,2']);
    if (!clash.ok) throw new Error('bad vary');
    const out = join(root, 'sw-clash');
    await expect(runSweep(base(out, { variations: clash.variations, columns: 'safe' }))).rejects.toThrow(
      /protocol\.toy\.pings_per_s and protocol\.toy\.pings\.per_s both become column protocol_toy_pings_per_s/,
    );
    expect(existsSync(join(out, 'runs'))).toBe(false);
  });

  it('gives a column to every metric any run names, leaving empty the cells of runs without it', async () => {
    const out = join(root, 'sw-renamed');
    let calls = 0;
    await runSweep(base(out, { shouldStop: () => ++calls > 3 }));
    // The first run names one metric otherwise (as a module may, or a CUBIC flow's share).
    const runsDir = join(out, 'runs');
    const file = join(runsDir, readdirSync(runsDir).sort()[0] as string);
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { run_id: string; metrics: Record<string, number> };
    const [name, value] = Object.entries(rec.metrics)[0] as [string, number];
    delete rec.metrics[name];
    rec.metrics['extra_count'] = value;
    writeFileSync(file, JSON.stringify(rec));
    await runSweep(base(out, { resume: true }));
    const rows = (readAll(out)['summary.csv'] ?? '')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const header = rows[0] as string[];
    expect(header).toContain(name);
    expect(header).toContain('extra_count');
    const at = (row: string[], column: string): string => row[header.indexOf(column)] as string;
    const first = rows.find((r) => r[0] === rec.run_id) as string[];
    expect(at(first, name)).toBe('');
    expect(Number(at(first, 'extra_count'))).toBe(value);
    for (const r of rows.slice(1).filter((r) => r[0] !== rec.run_id)) {
      expect(at(r, 'extra_count')).toBe('');
      expect(at(r, name)).not.toBe('');
    }
    expect(readAll(out)['aggregate.csv']?.split('\n')[0]).toContain('extra_count_mean');
  });

  it('records the --set overrides as given, in order, and the base seed in sweep.json; resume and merge check and keep them', async () => {
    const given = ['duration_s=1.5', 'seed=11', 'network.link.jitter_ms=2.0'];
    const sets = parseSets(given);
    if (!sets.ok) throw new Error('bad set');
    const out = join(root, 'sw-sets');
    await runSweep(base(out, { sets: sets.overrides }));
    const ident = JSON.parse(readAll(out)['sweep.json'] ?? '{}') as Record<string, unknown>;
    expect(ident['set']).toEqual(given);
    expect(ident['base_seed']).toBe(11);
    // The runs' seeds derive from that base seed.
    expect(readAll(out)['summary.csv']?.split('\n')[1]?.split(',')[2]).toBe(String(planRuns(11, vary.variations, 2)[0]?.seed));
    // Without overrides: an empty list and the file's seed.
    await runSweep(base(join(root, 'sw-no-sets'), { reps: 1 }));
    const plain = JSON.parse(readAll(join(root, 'sw-no-sets'))['sweep.json'] ?? '{}') as Record<string, unknown>;
    expect([plain['set'], plain['base_seed']]).toEqual([[], 3]);

    // --resume refuses another --set (another value, or one left out).
    const other = parseSets(['duration_s=1.5', 'seed=11', 'network.link.jitter_ms=3']);
    if (!other.ok) throw new Error('bad set');
    const part = join(root, 'sw-sets-part');
    await runSweep(base(part, { sets: sets.overrides, shouldStop: () => true }));
    await expect(runSweep(base(part, { sets: other.overrides, resume: true }))).rejects.toThrow(/refusing to mix/);
    await expect(runSweep(base(part, { sets: sets.overrides.slice(0, 2), resume: true }))).rejects.toThrow(/refusing to mix/);

    // merge refuses shards run with different overrides, and keeps them in the merged sweep.json.
    const shard = (i: number, o: typeof sets.overrides) =>
      runSweep(base(join(root, `sw-sets-shard${i}`), { sets: o, shard: { index: i, count: 2 } }));
    await shard(0, sets.overrides);
    await shard(1, other.overrides);
    await expect(mergeSweeps([join(root, 'sw-sets-shard0'), join(root, 'sw-sets-shard1')], join(root, 'sw-sets-bad'))).rejects.toThrow(
      /a different sweep/,
    );
    const again = join(root, 'sw-sets-shard1b');
    await runSweep(base(again, { sets: sets.overrides, shard: { index: 1, count: 2 } }));
    const merged = join(root, 'sw-sets-merged');
    await mergeSweeps([join(root, 'sw-sets-shard0'), again], merged);
    expect(readAll(merged)['summary.csv']).toBe(readAll(out)['summary.csv']);
    expect(JSON.parse(readAll(merged)['sweep.json'] ?? '{}')).toMatchObject({ set: given, base_seed: 11 });
    // A record whose set or base_seed is not what desim writes is named, not trusted.
    for (const [key, value, why] of [
      ['set', 'duration_s=1.5', '"set" is not a list of path=value'],
      ['base_seed', 1.5, '"base_seed" is not a whole number'],
    ] as const) {
      writeFileSync(join(part, 'sweep.json'), JSON.stringify({ ...ident, runs: 12, [key]: value }));
      await expect(runSweep(base(part, { sets: sets.overrides, resume: true }))).rejects.toThrow(`is not a desim sweep record (${why})`);
    }
  });

  it('refuses to resume into a folder of a different sweep', async () => {
    const out = join(root, 'sw-mixed');
    await runSweep(base(out, { shouldStop: () => true }));
    const changed = parseVaries(['protocol.toy.pings_per_s=20,41', 'network.link.loss=0,0.3']);
    if (!changed.ok) throw new Error('bad vary');
    await expect(runSweep(base(out, { resume: true, variations: changed.variations }))).rejects.toThrow(/refusing to mix/);
  });

  it('fails before running anything when one combination is invalid', async () => {
    const bad = parseVaries(['network.link.loss=0.1,2']);
    if (!bad.ok) throw new Error('bad vary');
    const out = join(root, 'sw-bad');
    await expect(runSweep(base(out, { variations: bad.variations }))).rejects.toThrow(
      /network\.link\.loss: expected a number <= 1, got 2 \(with --vary network\.link\.loss=2\)/,
    );
    expect(existsSync(join(out, 'runs'))).toBe(false);
  });
});
