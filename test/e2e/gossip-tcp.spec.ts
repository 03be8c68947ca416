/**
 * Gossip and TCP in one scenario: both protocols on one network (a node may
 * run a gossip replica and a TCP end), both sets of outputs, the same bytes
 * twice, TCP's delivery intact beside gossip, gossip slowed by the queue the
 * bulk flow fills, and the mixed sections' refusals.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { gossipRecipe } from '../../src/scenarios/drivers/gossip.js';
import { tcpRecipe } from '../../src/scenarios/drivers/tcp.js';
import { checkScenario, readScenarioFile, validateScenario, type Scenario } from '../../src/scenarios/loader.js';
import { parseSets } from '../../src/scenarios/overrides.js';
import { runPipeline } from '../../src/scenarios/pipeline.js';
import { runScenario } from '../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-gossip-tcp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, string>;
const BUNDLED = resolveScenarioPath('gossip-tcp-shared-link');

/** The bundled scenario with `--set` overrides, validated. */
function scenario(sets: readonly string[] = []): Scenario {
  const o = parseSets(sets);
  if (!o.ok) throw new Error(JSON.stringify(o.issues));
  return validateScenario(readScenarioFile(BUNDLED), BUILTIN_DRIVERS, BUNDLED, o.overrides);
}

async function runTo(name: string, sets: readonly string[] = []): Promise<{ dir: string; summary: Row }> {
  const dir = join(tmp, name);
  await runScenario(scenario([...sets, 'outputs.plots=false']), { outDir: dir });
  const summary = parseCsv<Row>(readFileSync(join(dir, 'summary.csv'), 'utf8'), { columns: true })[0] as Row;
  return { dir, summary };
}

const issuesOf = (raw: unknown): string[] => {
  const r = checkScenario(raw, BUILTIN_DRIVERS);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

/** A small mixed scenario as an object, for the refusals. */
function small(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'mixed',
    duration_s: 10,
    network: { nodes: ['A', 'B', 'C'], link: { bandwidth_bps: 10_000_000 } },
    protocol: { gossip: {}, tcp: { flows: [{ from: 'A', to: 'B' }] } },
    workload: [{ at_s: 1, node: 'C', op: 'put', key: 'k', value: 'v' }],
    ...extra,
  };
}

describe('gossip and TCP sharing one network', () => {
  it('runs both protocols: both traces, tables prefixed with the protocol, one summary row with both metrics', async () => {
    const { dir, summary } = await runTo('both');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'trace-cwnd.csv',
        'trace-deliveries.csv',
        'trace-infection.csv',
        'gossip-updates.csv',
        'gossip-reads.csv',
        'tcp-flows.csv',
      ]),
    );
    expect(Number(summary['gossip_updates'])).toBe(10);
    expect(summary['gossip_converged']).toBe('1');
    // The flow fills most of the 2 Mbps link: its packets and gossip's crossed the same queue.
    expect(Number(summary['tcp_goodput_bps'])).toBeGreaterThan(1.5e6);
    expect(Number(summary['tcp_goodput_bps'])).toBeLessThan(2e6);
    const reads = parseCsv<Row>(readFileSync(join(dir, 'gossip-reads.csv'), 'utf8'), { columns: true });
    expect(reads.map((r) => [r['node'], r['value']])).toEqual([['e2', '1']]);
  });

  it('is deterministic: the same scenario gives the same bytes twice', async () => {
    const a = await runTo('twice-a');
    const b = await runTo('twice-b');
    const csvs = readdirSync(a.dir).filter((f) => f.endsWith('.csv'));
    expect(csvs.length).toBeGreaterThanOrEqual(7);
    for (const f of csvs) expect(readFileSync(join(b.dir, f), 'utf8'), f).toBe(readFileSync(join(a.dir, f), 'utf8'));
  });

  it('slows gossip: every seed takes longer to replicate the writes with the bulk flow on the link than without', async () => {
    const lines: string[] = [];
    for (const seed of [1, 2, 3]) {
      const off = (await runTo(`off-${seed}`, [`seed=${seed}`, 'protocol.tcp.flows[0].bytes=0'])).summary;
      const on = (await runTo(`on-${seed}`, [`seed=${seed}`])).summary;
      lines.push(`seed ${seed}: t_ave ${off['gossip_t_ave_s']} -> ${on['gossip_t_ave_s']} s, tcp mean RTT ${on['tcp_mean_rtt_s']} s`);
      // Mean delay to a replica, over the 10 writes: the gateways' link is the only way east.
      expect(Number(on['gossip_t_ave_s']), lines.join('\n')).toBeGreaterThan(2 * Number(off['gossip_t_ave_s']));
      // The queue the flow keeps full: its RTT is many times the 40 ms of propagation.
      expect(Number(on['tcp_mean_rtt_s']), lines.join('\n')).toBeGreaterThan(0.4);
      expect(off['tcp_goodput_bps']).toBe('');
    }
  });

  it('keeps TCP delivery exact beside gossip: a finite transfer arrives once, in order, whole', () => {
    const s = scenario(['protocol.tcp.flows[0].bytes=3000000', 'outputs.traces=none']);
    let next = 0;
    const problems: string[] = [];
    const result = runPipeline(s, { seed: String(s.seed), openTrace: () => undefined, progress: () => undefined }, [
      gossipRecipe(),
      tcpRecipe({
        onFlows: (flows) =>
          flows.deliveries.connect((d) => {
            if (d.start !== next) problems.push(`delivery [${d.start}, ${d.end}) expected to start at ${next}`);
            next = d.end;
          }),
      }),
    ]);
    expect(problems).toEqual([]);
    expect(next).toBe(3_000_000);
    const flows = result.tables?.['tcp-flows'];
    expect(flows?.rows[0]?.[6]).toBe(3_000_000);
    expect(flows?.rows[0]?.[15]).not.toBe('');
    expect(result.metrics['gossip_converged']).toBe(1);
  });

  it('refuses nonsense with the field path', () => {
    expect(issuesOf(small({ protocol: { gossip: {}, module: { path: 'x.js' } } }))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^protocol: expected exactly one protocol section .*or gossip and tcp together.*got gossip, module/),
      ]),
    );
    expect(issuesOf(small({ faults: [{ at_s: 2, crash: 'A' }] }))).toEqual([
      expect.stringMatching(/^faults\[0\]\.crash: node A runs a TCP end beside gossip: a crash of a node two protocols share is not supported/),
    ]);
    // A node without a TCP end may crash: gossip runs there alone.
    expect(
      issuesOf(
        small({
          faults: [
            { at_s: 2, crash: 'C' },
            { at_s: 3, restart: 'C' },
          ],
        }),
      ),
    ).toEqual([]);
    expect(issuesOf(small({ protocol: { gossip: {}, tcp: { flows: [{ from: 'A', to: 'Q' }] } } }))).toEqual([
      expect.stringMatching(/^protocol\.tcp\.flows\[0\]\.to: unknown node "Q"/),
    ]);
    expect(issuesOf(small({ protocol: { gossip: { fanout: 0 }, tcp: { flows: [{ from: 'A', to: 'B', bytes: -1 }] } } }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^protocol\.gossip\.fanout: /), expect.stringMatching(/^protocol\.tcp\.flows\[0\]\.bytes: /)]),
    );
    expect(issuesOf(small({ outputs: { traces: ['cwnd', 'infection', 'cwd'] } }))).toEqual([
      expect.stringMatching(/^outputs\.traces\[2\]: unknown trace "cwd"; did you mean "cwnd"\? \(gossip and tcp writes .*cwnd/),
    ]);
    expect(issuesOf(small())).toEqual([]);
  });

  it('desim validate names both protocols (built CLI)', () => {
    const r = spawnSync(process.execPath, [resolve('dist/src/cli.js'), 'validate', BUNDLED], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(': ok (gossip + tcp, 6 nodes, 1 flow, 60 s)');
  });

  it('gives the same sweep tables with --jobs 1 and --jobs 2 (built CLI)', () => {
    const cli = resolve('dist/src/cli.js');
    const args = ['sweep', BUNDLED, '--vary', 'protocol.tcp.flows[0].bytes=0,unlimited', '--reps', '2', '--quiet'];
    const out = (jobs: string): string => {
      const dir = join(tmp, `jobs${jobs}`);
      const r = spawnSync(process.execPath, [cli, ...args, '--jobs', jobs, '--out', dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`desim sweep exited ${r.status}: ${r.stderr}`);
      return readFileSync(join(dir, 'summary.csv'), 'utf8') + readFileSync(join(dir, 'aggregate.csv'), 'utf8');
    };
    const one = out('1');
    expect(one).toContain('gossip_t_ave_s');
    expect(out('2')).toBe(one);
  });
});
