/**
 * TCP flows on a scenario's network, under each fault verb: the run must show the fault's effect
 * in the cwnd trace or the flows table, and a finite transfer must still deliver every byte.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { parseScenarioText, validateScenario } from '../../../src/scenarios/loader.js';
import { runScenario } from '../../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-tcp-net-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, string>;

async function run(name: string, faults: string, bytes = 10_000_000): Promise<{ trace: Row[]; flow: Row }> {
  const text = `
name: ${name}
seed: 2
duration_s: 40
network:
  nodes: [A, B]
  link: { bandwidth_bps: 100000000, queue_packets: 1000, latency_ms: 10, loss: 0.001 }
protocol:
  tcp:
    flows: [{ variant: newreno, from: A, to: B, bytes: ${bytes} }]
faults: ${faults}
outputs: { traces: all, plots: false }
`;
  const out = join(tmp, name);
  await runScenario(validateScenario(parseScenarioText(text), BUILTIN_DRIVERS), { outDir: out });
  const trace = parseCsv<Row>(readFileSync(join(out, 'trace-cwnd.csv'), 'utf8'), { columns: true });
  const flow = parseCsv<Row>(readFileSync(join(out, 'flows.csv'), 'utf8'), { columns: true })[0] as Row;
  return { trace, flow };
}

const t = (r: Row): number => Number(r['time_s']);
const events = (rows: Row[], e: string): Row[] => rows.filter((r) => r['event'] === e);

describe('TCP on the scenario network, under every fault verb', () => {
  it('no faults: the transfer completes, its losses repaired by fast retransmits', async () => {
    const { trace, flow } = await run('clean', '[]');
    expect(flow['delivered_bytes']).toBe('10000000');
    expect(flow['completed_s']).not.toBe('');
    expect(events(trace, 'timeout')).toEqual([]);
    expect(events(trace, 'fast_retransmit').length).toBeGreaterThan(0);
  });

  it('crash and restart of the receiver: timeouts back off while it is down, then the transfer completes', async () => {
    const { trace, flow } = await run('crash', '[{ at_s: 1, crash: B }, { at_s: 4, restart: B }]');
    const during = events(trace, 'timeout').filter((r) => t(r) > 1 && t(r) < 6);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(Number(during[1]?.['rto_s'])).toBe(2 * Number(during[0]?.['rto_s']));
    expect(flow['delivered_bytes']).toBe('10000000');
    expect(Number(flow['completed_s'])).toBeGreaterThan(4);
  });

  it('hold and release: the held burst arrives at once, out of order with the retransmission', async () => {
    const { trace, flow } = await run('hold', '[{ at_s: 1, hold: [[A], [B]], name: h }, { at_s: 2.5, release: h }]');
    expect(events(trace, 'timeout').filter((r) => t(r) > 1 && t(r) < 2.6).length).toBeGreaterThanOrEqual(1);
    // After the release the receiver gets the parked segments and the retransmissions: duplicate ACKs follow.
    expect(events(trace, 'dupack').filter((r) => t(r) >= 2.5 && t(r) < 3).length).toBeGreaterThan(0);
    expect(flow['delivered_bytes']).toBe('10000000');
  });

  it('set_loss: a loss episode (10% for 1 s, over the base 0.1%) drops data while it lasts', async () => {
    const { trace, flow } = await run(
      'loss',
      '[{ at_s: 1, set_loss: 0.1, between: [A, B], one_way: true }, { at_s: 2, set_loss: 0.001, between: [A, B], one_way: true }]',
      20_000_000,
    );
    const drops = events(trace, 'drop');
    const lossDrops = drops.filter((r) => t(r) >= 1 && t(r) < 2);
    expect(lossDrops.length).toBeGreaterThan(10);
    expect(lossDrops.length).toBeGreaterThan(5 * drops.filter((r) => t(r) >= 3 && t(r) < 4).length);
    expect(events(trace, 'fast_retransmit').filter((r) => t(r) >= 1 && t(r) < 2.5).length).toBeGreaterThan(0);
    expect(flow['delivered_bytes']).toBe('20000000');
  });

  it('set_latency_ms: the smoothed RTT follows the new latency', async () => {
    const { trace } = await run('latency', '[{ at_s: 1, set_latency_ms: 100, between: [A, B] }]', 10_000_000);
    const srtt = (from: number, to: number): number[] =>
      events(trace, 'ack')
        .filter((r) => t(r) > from && t(r) < to)
        .map((r) => Number(r['srtt_s']));
    expect(Math.max(...srtt(0.5, 1))).toBeLessThan(0.15);
    expect(Math.min(...srtt(3, 4))).toBeGreaterThan(0.2); // 2 x 100 ms propagation now
  });
});
