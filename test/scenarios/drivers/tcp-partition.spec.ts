/**
 * The bundled tcp-partition scenario: one flow whose path (the link A -> B of the scenario's
 * network, and back) is partitioned from 5 s to 8 s. Read from its cwnd trace: the retransmission
 * timer expires 1 s after the last ACK before the cut, then backs off to 2 s and 4 s (RFC 6298
 * 5.5: the RTO doubles at each expiry), the retransmission after the repair is acknowledged, and
 * the transfer completes with every byte delivered.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../../src/scenarios/loader.js';
import { runScenario } from '../../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-tcp-partition-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Seconds as written in the trace to integer nanoseconds (exact: the trace prints ns as decimal seconds). */
const ns = (s: string): number => Math.round(Number(s) * 1e9);
const S = 1e9;

describe('tcp-partition (bundled)', () => {
  it('times out 1 s after the last ACK, backs off to 2 s and 4 s, recovers after the repair and delivers every byte', async () => {
    const out = join(tmp, 'run');
    await runScenario(loadScenario(resolveScenarioPath('tcp-partition'), BUILTIN_DRIVERS), { outDir: out });
    const rows = parseCsv<Record<string, string>>(readFileSync(join(out, 'trace-cwnd.csv'), 'utf8'), { columns: true });
    const cut = 5 * S;
    const repair = 8 * S;
    expect(rows.filter((r) => r['event'] === 'timeout' && ns(r['time_s'] as string) < cut)).toEqual([]);
    const lastAck = rows.filter((r) => r['event'] === 'ack' && ns(r['time_s'] as string) < cut).at(-1) as Record<string, string>;
    const timeouts = rows.filter((r) => r['event'] === 'timeout');
    expect(timeouts).toHaveLength(3);
    const [t1, t2, t3] = timeouts.map((r) => ns(r['time_s'] as string)) as [number, number, number];
    // The RTO that expired each time: 1 s (the minimum), then doubled twice (RFC 6298 5.5).
    expect(t1 - ns(lastAck['time_s'] as string)).toBe(1 * S);
    expect(t2 - t1).toBe(2 * S);
    expect(t3 - t2).toBe(4 * S);
    expect(timeouts.map((r) => Number(r['rto_s']))).toEqual([2, 4, 8]); // the backed-off RTO after each
    expect(t1).toBeGreaterThan(cut);
    expect(t2).toBeLessThan(repair); // the second retransmission is lost in the partition too
    expect(t3).toBeGreaterThan(repair);
    // Every timeout resends the same oldest unacknowledged segment.
    expect(new Set(timeouts.map((r) => r['snd_una_bytes'])).size).toBe(1);
    // Recovery: the ACK of that retransmission comes one RTT later, and the window grows again.
    const after = rows.filter((r) => ns(r['time_s'] as string) > t3);
    const firstAck = after.find((r) => r['event'] === 'ack') as Record<string, string>;
    expect(ns(firstAck['time_s'] as string) - t3).toBeLessThan(0.1 * S);
    expect(Number(firstAck['snd_una_bytes'])).toBeGreaterThan(Number(timeouts[2]?.['snd_una_bytes']));
    expect(Math.max(...after.map((r) => Number(r['cwnd_pkts'])))).toBeGreaterThan(10);
    const flows = parseCsv<Record<string, string>>(readFileSync(join(out, 'flows.csv'), 'utf8'), { columns: true });
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ delivered_bytes: '12000000', timeouts: '3' });
    expect(ns(flows[0]?.['completed_s'] as string)).toBeGreaterThan(t3);
  });
});
