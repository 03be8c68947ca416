/**
 * The bundled fairness scenarios: two Reno flows with equal RTTs split the bottleneck fairly (Jain's
 * index >= 0.95 at every rate the bundled sweep tries), and with unequal RTTs the shorter flow gets
 * more, by a ratio between the RTT ratio to the power 1/2 and 2 (the literature gives 1 at a common
 * loss rate, Mathis et al. 1997, and 2 for synchronized drop-tail losses, Lakshman and Madhow 1997).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { readScenarioFile, validateScenario } from '../../src/scenarios/loader.js';
import { parseSets } from '../../src/scenarios/overrides.js';
import { runScenario } from '../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-tcp-fairness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function metrics(name: string, sets: readonly string[], label: string): Promise<Record<string, number>> {
  const file = resolveScenarioPath(name);
  const o = parseSets([...sets, 'outputs.plots=false']);
  if (!o.ok) throw new Error(JSON.stringify(o.issues));
  const r = await runScenario(validateScenario(readScenarioFile(file), BUILTIN_DRIVERS, file, o.overrides), { outDir: join(tmp, label) });
  return r.result.metrics;
}

describe('two Reno flows', () => {
  for (const bps of [2_000_000, 20_000_000]) {
    for (const seed of [1, 2]) {
      it(`equal RTTs at ${bps / 1e6} Mbps, seed ${seed}: Jain's index >= 0.95, though the second flow starts 5 s later`, async () => {
        const m = await metrics('tcp-fairness', [`protocol.tcp.bottleneck.bandwidth_bps=${bps}`, `seed=${seed}`], `fair-${bps}-${seed}`);
        expect(m['jain_index']).toBeGreaterThanOrEqual(0.95);
        expect(m['rtt_ratio']).toBeCloseTo(1, 1);
        // The link is used: more than 90% of its payload rate.
        expect(m['goodput_bps']).toBeGreaterThan(0.9 * bps * (1460 / 1500));
      });
    }
  }

  it('RTTs 40 and 240 ms: the shorter flow gets more, between the RTT ratio^(1/2) and ^2; the model columns are the ratio and its square', async () => {
    const m = await metrics('tcp-rtt-fairness', ['protocol.tcp.flows[1].extra_rtt_ms=200'], 'rtt-200');
    const rtt = m['rtt_ratio'] as number;
    const ratio = m['goodput_ratio'] as number;
    expect(rtt).toBeGreaterThan(3);
    expect(ratio).toBeGreaterThan(Math.sqrt(rtt));
    expect(ratio).toBeLessThan(rtt * rtt);
    expect(m['model_goodput_ratio_rtt1']).toBe(rtt);
    expect(m['model_goodput_ratio_rtt2']).toBe(rtt * rtt);
    expect(m['jain_index']).toBeLessThan(0.9);
  });
});
