/**
 * The path keys of `protocol.tcp` (initial_ssthresh_pkts, rwnd_bytes, return_path.bandwidth_bps /
 * queue_packets, recovery_exit): what the file may say, what is refused with the key's path, and
 * that leaving them out changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../../src/scenarios/drivers/index.js';
import { checkScenario } from '../../../src/scenarios/loader.js';

function check(tcp: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return checkScenario({ name: 'path', seed: 1, duration_s: 5, protocol: { tcp }, ...extra }, BUILTIN_DRIVERS);
}

function problems(tcp: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  const r = check(tcp, extra);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('protocol.tcp path keys', () => {
  it('defaults: unlimited ssthresh and window, no return bandwidth, rfc exit', () => {
    const r = check({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = r.scenario.protocol['tcp'] as Record<string, unknown>;
    expect(s['initial_ssthresh_pkts']).toBe('unlimited');
    expect(s['rwnd_bytes']).toBe('unlimited');
    expect(s['recovery_exit']).toBe('rfc');
    expect(s['return_path']).toEqual({ delay_ms: 50, loss: 0, jitter_ms: 0 });
  });

  it('accepts the documented ranges, section-wide and per flow', () => {
    expect(
      problems({
        initial_ssthresh_pkts: 2,
        rwnd_bytes: 1460,
        recovery_exit: 'linux',
        return_path: { bandwidth_bps: 1e6, queue_packets: 0 },
        flows: [
          { initial_ssthresh_pkts: 1e9, rwnd_bytes: 65535 * 2 ** 14 },
          { initial_ssthresh_pkts: 'unlimited', rwnd_bytes: 'unlimited' },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses values outside them, naming the key', () => {
    const paths = (tcp: Record<string, unknown>): string[] => problems(tcp).map((p) => p.split(':')[0] as string);
    expect(paths({ initial_ssthresh_pkts: 1 })).toEqual(['protocol.tcp.initial_ssthresh_pkts']);
    expect(paths({ initial_ssthresh_pkts: 2.5 })).toEqual(['protocol.tcp.initial_ssthresh_pkts']);
    expect(paths({ rwnd_bytes: 65535 * 2 ** 14 + 1 })).toEqual(['protocol.tcp.rwnd_bytes']);
    expect(paths({ recovery_exit: 'bsd' })).toEqual(['protocol.tcp.recovery_exit']);
    expect(paths({ return_path: { bandwidth_bps: 0 } })).toEqual(['protocol.tcp.return_path.bandwidth_bps']);
    expect(paths({ flows: [{ rwnd_bytes: 0 }] })).toEqual(['protocol.tcp.flows[0].rwnd_bytes']);
  });

  it('refuses a window below one segment, a return queue without a return bandwidth, and a recovery exit no flow has', () => {
    expect(problems({ rwnd_bytes: 1000, mss_bytes: 1460, flows: [{}, { rwnd_bytes: 1459 }] })).toEqual([
      'protocol.tcp.rwnd_bytes: expected at least one segment (mss_bytes 1460), got 1000: a smaller window never lets a full segment out',
      'protocol.tcp.flows[1].rwnd_bytes: expected at least one segment (mss_bytes 1460), got 1459: a smaller window never lets a full segment out',
    ]);
    expect(problems({ return_path: { queue_packets: 10 } })).toEqual([
      'protocol.tcp.return_path.queue_packets: a queue forms only behind a bandwidth, and return_path has none: set return_path.bandwidth_bps or remove it',
    ]);
    expect(problems({ recovery_exit: 'linux', flows: [{ variant: 'tahoe' }] })).toEqual([
      'protocol.tcp.recovery_exit: tahoe has no fast recovery to exit, and every flow is tahoe: use reno or newreno, or remove it',
    ]);
    expect(problems({ recovery_exit: 'linux', flows: [{ variant: 'tahoe' }, { variant: 'reno' }] })).toEqual([]);
  });

  it('with a network section the return path keys are the dumbbell’s and refused; the others apply', () => {
    const network = { nodes: ['A', 'B'], link: { bandwidth_bps: 1e6 } };
    const flows = [{ from: 'A', to: 'B', rwnd_bytes: 20_000, initial_ssthresh_pkts: 10 }];
    expect(problems({ flows, recovery_exit: 'linux', rwnd_bytes: 30_000 }, { network })).toEqual([]);
    expect(problems({ flows, return_path: { bandwidth_bps: 1e6 } }, { network }).map((p) => p.split(':')[0])).toEqual(['protocol.tcp.return_path']);
  });

  it('on a network link without a bandwidth, a receive window bounds the work estimate (without one the run is refused as unbounded)', () => {
    const network = { nodes: ['A', 'B'], link: { latency_ms: 10 } };
    expect(problems({ flows: [{ from: 'A', to: 'B', rwnd_bytes: 65_535 }] }, { network })).toEqual([]);
    expect(problems({ rwnd_bytes: 65_535, flows: [{ from: 'A', to: 'B' }] }, { network })).toEqual([]);
    expect(problems({ flows: [{ from: 'A', to: 'B' }] }, { network }).map((p) => p.split(':')[0])).toEqual(['protocol.tcp.flows[0].bytes']);
  });
});
