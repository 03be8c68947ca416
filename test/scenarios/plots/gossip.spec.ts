import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toCsv } from '../../../src/io/csv.js';
import { plotDirectory, readRecordedScenario } from '../../../src/scenarios/plot.js';
import { resolveScenarioPath } from '../../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../../src/scenarios/loader.js';
import { runScenario } from '../../../src/scenarios/runner.js';
import { infectionSpec, readTimeline, readUpdateCurves, runNodes } from '../../../src/scenarios/plots/gossip.js';

const root = mkdtempSync(join(tmpdir(), 'desim-gossip-plot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

const UPDATE_COLUMNS = [
  'written_s',
  'node',
  'key',
  'op',
  'version_ns',
  't_ave_s',
  't_last_s',
  't_all_s',
  'residue_frac',
  'rumor_messages',
  'rumor_bytes',
  'lost',
];
const DELIVERY_COLUMNS = ['time_s', 'node', 'key', 'origin', 'version_ns', 'via'];

/**
 * Four nodes; A writes color at 1 s, B overwrites it at 2 s; D restarts without state at 3 s. B reads at 2.5 s.
 */
function gossipRun(nodes: unknown = ['A', 'B', 'C', 'D']): string {
  const dir = join(root, `d${dirCount++}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      desim_output: 'run',
      scenario: {
        name: 'two-writes',
        duration_s: 4,
        network: { nodes, link: { loss: 0, latency_ms: 1 } },
        faults: [
          { at_s: 2.8, crash: 'D' },
          { at_s: 3, restart: 'D', keep_state: false },
        ],
      },
    }),
  );
  writeFileSync(
    join(dir, 'updates.csv'),
    toCsv(UPDATE_COLUMNS, [
      [1, 'A', 'color', 'put', 1e9, 0.1, 0.2, 0.2, 0, 3, 90, 0],
      [2, 'B', 'color', 'put', 2e9, 0.2, 0.3, 0.3, 0, 3, 90, 0],
    ]),
  );
  writeFileSync(
    join(dir, 'trace-deliveries.csv'),
    toCsv(DELIVERY_COLUMNS, [
      [1.1, 'B', 'color', 'A', 1e9, 'rumor'],
      [1.2, 'C', 'color', 'A', 1e9, 'anti_entropy'],
      [2.1, 'A', 'color', 'B', 2e9, 'rumor'],
      [2.2, 'C', 'color', 'B', 2e9, 'rumor'],
      [2.3, 'D', 'color', 'B', 2e9, 'rumor'],
      // An older version arriving late changes nothing.
      [2.4, 'D', 'color', 'A', 1e9, 'anti_entropy'],
    ]),
  );
  writeFileSync(
    join(dir, 'reads.csv'),
    toCsv(['time_s', 'node', 'key', 'value', 'value_type', 'found', 'stale'], [[2.5, 'B', 'color', 'blue', 'string', 1, 0]]),
  );
  return dir;
}

describe('infection curves per write', () => {
  it('starts a curve at each write; a second write to the key does not drop the first to 0', async () => {
    const dir = gossipRun();
    const run = runNodes(readRecordedScenario(dir));
    expect(run).toEqual({ nodes: ['A', 'B', 'C', 'D'], freshRestarts: [{ timeS: 3, node: 'D' }], durationS: 4 });
    const data = await readUpdateCurves(join(dir, 'updates.csv'), join(dir, 'trace-deliveries.csv'), run!);
    expect(data.keys).toEqual(['color by A at 1 s', 'color by B at 2 s']);
    const curve = (label: string): [number, number][] => data.rows.filter((r) => r.key === label).map((r) => [r.timeS, r.fraction]);
    // First write: A, B, C store it; D stores the newer one at 2.3 s (so also "it or newer"); D forgets at 3 s.
    expect(curve('color by A at 1 s')).toEqual([
      [1, 0.25],
      [1.1, 0.5],
      [1.2, 0.75],
      [2.3, 1],
      [3, 0.75],
    ]);
    expect(curve('color by B at 2 s')).toEqual([
      [2, 0.25],
      [2.1, 0.5],
      [2.2, 0.75],
      [2.3, 1],
      [3, 0.75],
    ]);
    const spec = infectionSpec(data) as { layer: { encoding: { y: { title: string }; color: { title: string } } }[] };
    expect(spec.layer[0]?.encoding.y.title).toBe('Fraction of nodes storing it (or newer)');
    expect(spec.layer[0]?.encoding.color.title).toBe('Write');
  });

  it("draws infection.svg per write, with the run's faults, when the deliveries trace is there", async () => {
    const dir = gossipRun();
    expect(await plotDirectory(dir)).toEqual(['infection.svg', 'deliveries.svg']);
    const svg = readFileSync(join(dir, 'infection.svg'), 'utf8');
    for (const text of ['color by A at 1 s', 'color by B at 2 s', 'Crash D']) expect(svg).toContain(`>${text}<`);
  });

  it('expands a node count into the names n0..n(N-1)', () => {
    const dir = gossipRun(3);
    expect(runNodes(readRecordedScenario(dir))?.nodes).toEqual(['n0', 'n1', 'n2']);
  });
});

describe('a gossip run draws from its own scenario (meta.json is written after the plots)', () => {
  it('gossip-partition-heal: one curve per write and the partition band, as `desim plot` redraws them', async () => {
    const out = join(root, `run${dirCount++}`);
    await runScenario(loadScenario(resolveScenarioPath('gossip-partition-heal'), BUILTIN_DRIVERS), { outDir: out });
    const drawn = readFileSync(join(out, 'infection.svg'), 'utf8');
    for (const text of ['Partition halves', 'Write', 'Fraction of nodes storing it (or newer)']) expect(drawn).toContain(`>${text}<`);
    expect(readFileSync(join(out, 'deliveries.svg'), 'utf8')).toContain('>n19<');
    await plotDirectory(out);
    expect(readFileSync(join(out, 'infection.svg'), 'utf8')).toBe(drawn);
  });
});

describe('delivery timeline', () => {
  it('marks each write at its writer, each delivery of the write that arrived, and each read', async () => {
    const dir = gossipRun();
    const run = runNodes(readRecordedScenario(dir))!;
    const data = await readTimeline(join(dir, 'updates.csv'), join(dir, 'trace-deliveries.csv'), join(dir, 'reads.csv'), run);
    expect(data.points.map((p) => [p.timeS, p.node, p.kind, p.update])).toEqual([
      [1, 'A', 'Write', 'color by A at 1 s'],
      [1.1, 'B', 'Rumor', 'color by A at 1 s'],
      [1.2, 'C', 'Anti-entropy', 'color by A at 1 s'],
      [2, 'B', 'Write', 'color by B at 2 s'],
      [2.1, 'A', 'Rumor', 'color by B at 2 s'],
      [2.2, 'C', 'Rumor', 'color by B at 2 s'],
      [2.3, 'D', 'Rumor', 'color by B at 2 s'],
      [2.5, 'B', 'Read', 'Read'],
    ]);
    await plotDirectory(dir);
    const svg = readFileSync(join(dir, 'deliveries.svg'), 'utf8');
    for (const text of ['Delivery timeline', 'Node', 'A', 'D', 'Write', 'Rumor', 'Anti-entropy', 'Read']) expect(svg).toContain(`>${text}<`);
  });

  it('is not drawn for runs of more than 30 nodes', async () => {
    const dir = gossipRun(31);
    expect(await plotDirectory(dir)).toEqual(['infection.svg']);
  });
});
