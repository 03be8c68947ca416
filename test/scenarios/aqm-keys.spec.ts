import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { checkScenario } from '../../src/scenarios/loader.js';

function issuesOf(raw: unknown): string[] {
  const r = checkScenario(raw, BUILTIN_DRIVERS);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

const dumbbell = (tcp: Record<string, unknown>) => ({ name: 'aqm', duration_s: 5, protocol: { tcp } });

describe('queue discipline and ECN keys', () => {
  it('fills the documented defaults (ns-3 RED, RFC 8289 CoDel)', () => {
    const red = checkScenario(dumbbell({ bottleneck: { aqm: { kind: 'red' } } }), BUILTIN_DRIVERS);
    const codel = checkScenario(dumbbell({ bottleneck: { aqm: { kind: 'codel' } } }), BUILTIN_DRIVERS);
    expect(red.ok && (red.scenario.settings as { bottleneck: { aqm: unknown } }).bottleneck.aqm).toEqual({
      kind: 'red',
      min_th_packets: 5,
      max_th_packets: 15,
      max_p: 0.02,
      w_q: 0.002,
      gentle: true,
      mean_packet_bytes: 500,
      ecn: false,
    });
    expect(codel.ok && (codel.scenario.settings as { bottleneck: { aqm: unknown } }).bottleneck.aqm).toEqual({
      kind: 'codel',
      target_ms: 5,
      interval_ms: 100,
      ecn: false,
    });
  });

  it('refuses max_th at or below min_th, a parameter of the other kind, and out-of-range numbers', () => {
    expect(issuesOf(dumbbell({ bottleneck: { aqm: { kind: 'red', min_th_packets: 10, max_th_packets: 10 } } }))).toEqual([
      'protocol.tcp.bottleneck.aqm.max_th_packets: expected more than min_th_packets (10), got 10',
    ]);
    expect(issuesOf(dumbbell({ bottleneck: { aqm: { kind: 'codel', max_p: 0.1 } } }))[0]).toMatch(
      /^protocol\.tcp\.bottleneck\.aqm\.max_p: unknown key/,
    );
    expect(issuesOf(dumbbell({ bottleneck: { aqm: { kind: 'red', max_p: 0 } } }))[0]).toMatch(/^protocol\.tcp\.bottleneck\.aqm\.max_p: /);
  });

  it('refuses ECN where nothing marks, and marking where no flow uses ECN', () => {
    expect(issuesOf(dumbbell({ ecn: true }))).toEqual([
      'protocol.tcp.ecn: ECN acts only where a queue marks, and no queue discipline has ecn: true (set bottleneck.aqm: { kind: red or codel, ecn: true }): remove it',
    ]);
    expect(issuesOf(dumbbell({ bottleneck: { aqm: { kind: 'codel', ecn: true } } }))[0]).toMatch(
      /^protocol\.tcp\.bottleneck\.aqm\.ecn: marks ECN-capable packets, and no flow uses ECN/,
    );
    expect(issuesOf(dumbbell({ ecn: true, bottleneck: { aqm: { kind: 'codel', ecn: true } } }))).toEqual([]);
    expect(issuesOf(dumbbell({ bottleneck: { aqm: { kind: 'codel', ecn: true } }, flows: [{ variant: 'reno', ecn: true }] }))).toEqual([]);
  });

  it('refuses a discipline on a network link without a bandwidth, or without TCP flows', () => {
    const net = (link: Record<string, unknown>, protocol: Record<string, unknown>) => ({
      name: 'aqm',
      duration_s: 5,
      network: { nodes: ['A', 'B'], link },
      protocol,
    });
    const tcp = { tcp: { flows: [{ variant: 'reno', from: 'A', to: 'B' }] } };
    expect(issuesOf(net({ aqm: { kind: 'codel' } }, tcp))).toEqual([
      'network.link.aqm: a queue discipline needs a queue: set bandwidth_bps (an unset bandwidth is infinite, no packet ever waits)',
    ]);
    expect(issuesOf(net({ bandwidth_bps: 1e6, aqm: { kind: 'codel' } }, tcp))).toEqual([]);
    expect(issuesOf(net({ bandwidth_bps: 1e6, aqm: { kind: 'codel' } }, { gossip: {} }))).toEqual([
      'network.link.aqm: a queue discipline is for TCP flows (protocol.tcp: it reports the queue delay and negotiates ECN): remove it',
    ]);
  });
});
