/**
 * The tcp driver with CUBIC: `variant: cubic` is accepted (with and without SACK), the
 * `cubic_goodput_frac` metric appears only when CUBIC flows share a run with another variant, and
 * the bundled tcp-cubic-reno scenario runs its two flows on one bottleneck.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { tcpDriver, tcpMetrics, type TcpSettings } from '../../../src/scenarios/drivers/tcp.js';
import { loadScenario } from '../../../src/scenarios/loader.js';
import type { FlowSummary } from '../../../src/sim/index.js';

const MS = 1_000_000;

function flow(variant: string, goodputBps: number): FlowSummary {
  return {
    flow: 0,
    variant,
    baseRttNs: 100 * MS,
    startNs: 0,
    endNs: 10_000 * MS,
    bytesDelivered: goodputBps * 10,
    goodputBps,
    throughputBps: goodputBps,
    segmentsSent: 100,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    lossEvents: 0,
    dataDrops: 0,
    meanRttNs: 100 * MS,
    meanTimeoutRtoNs: 1000 * MS,
    completedNs: -1,
    ecnReductions: 0,
  };
}

describe('tcp driver: CUBIC', () => {
  const settings: TcpSettings = tcpDriver.schema.parse({ flows: [{ variant: 'cubic' }, { variant: 'reno' }] });

  it('accepts variant: cubic, alone or with SACK', () => {
    expect(settings.flows.map((f) => f.variant)).toEqual(['cubic', 'reno']);
    expect(tcpDriver.schema.safeParse({ sack: true, flows: [{ variant: 'cubic' }] }).success).toBe(true);
    expect(tcpDriver.schema.safeParse({ flows: [{ variant: 'bbr' }] }).success).toBe(false);
  });

  it('cubic_goodput_frac is the CUBIC flows part of the goodput, only when they share the run with another variant', () => {
    expect(tcpMetrics(settings, [flow('cubic', 3e6), flow('reno', 1e6)])['cubic_goodput_frac']).toBeCloseTo(0.75, 12);
    expect(tcpMetrics(settings, [flow('cubic', 3e6), flow('cubic', 1e6), flow('newreno', 4e6)])['cubic_goodput_frac']).toBeCloseTo(0.5, 12);
    expect(tcpMetrics(settings, [flow('cubic', 0), flow('reno', 0)])['cubic_goodput_frac']).toBeNaN();
    expect('cubic_goodput_frac' in tcpMetrics(settings, [flow('reno', 1e6), flow('reno', 1e6)])).toBe(false);
    expect('cubic_goodput_frac' in tcpMetrics(settings, [flow('cubic', 1e6), flow('cubic', 1e6)])).toBe(false);
  });

  it('the bundled tcp-cubic-reno: one CUBIC and one Reno flow, equal RTT, one bottleneck', () => {
    const s = loadScenario(resolveScenarioPath('tcp-cubic-reno'), BUILTIN_DRIVERS);
    const tcp = (s.protocol as { tcp: TcpSettings }).tcp;
    expect(tcp.flows.map((f) => f.variant)).toEqual(['cubic', 'reno']);
    expect(tcp.flows.map((f) => f.extra_rtt_ms)).toEqual([0, 0]);
  });
});
