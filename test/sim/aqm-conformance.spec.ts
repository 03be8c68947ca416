/**
 * Conformance of the queue disciplines and of ECN, read from traces of whole dumbbell runs: each
 * test cites the rule it checks. (The disciplines alone, driven with fixed sequences, are in
 * test/net/aqm.spec.ts.)
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import { CODEL_DEFAULTS, RED_DEFAULTS, type AqmSpec } from '../../src/net/aqm.js';
import type { PacketEvent, QueueEvent } from '../../src/net/network.js';
import { Dumbbell, type DumbbellConfig } from '../../src/sim/index.js';
import type { TcpSegmentRecord } from '../../src/sim/tcp-flows.js';

const MS = 1_000_000;
const S = 1_000_000_000;
const BW = 10e6;

function fourFlows(aqm: AqmSpec | undefined, ecn = false, queuePackets = 200): DumbbellConfig {
  return {
    bottleneck: { bandwidthBps: BW, delayNs: 20 * MS, queuePackets, ...(aqm !== undefined ? { aqm } : {}) },
    returnPath: { delayNs: 20 * MS },
    flows: [0, 1, 2, 3].map((i) => ({ variant: 'newreno' as const, startNs: i * 100 * MS, extraRttNs: i * 10 * MS, ecn })),
  };
}

function run(config: DumbbellConfig, seconds: number) {
  const sim = new Simulator({ seed: 1 });
  const bed = new Dumbbell(sim, config);
  const records = collect(bed.trace);
  const packets: PacketEvent[] = collect(bed.net.packets);
  const queue: QueueEvent[] = collect(bed.net.queueEvents);
  const segments: TcpSegmentRecord[] = collect(bed.flows.segments);
  bed.start();
  sim.run({ until: seconds * S });
  return { bed, records, packets, queue, segments, summary: bed.summary(sim.now) };
}

describe('managed queue', () => {
  it('drop-tail through the managed queue drops, delays and delivers exactly as the fast path (no two events at one instant)', () => {
    // The managed queue schedules a packet's arrival when it departs, the fast path when it is sent:
    // events at the same nanosecond may then run in another order. Odd delays keep them apart here.
    const odd = (aqm: AqmSpec | undefined): DumbbellConfig => {
      const c = fourFlows(aqm);
      return {
        ...c,
        bottleneck: { ...c.bottleneck, delayNs: 20 * MS + 7 },
        returnPath: { delayNs: 20 * MS + 101 },
        flows: c.flows.map((f, i) => ({ ...f, extraRttNs: i * 10 * MS + i * 13 })),
      };
    };
    const fast = run(odd(undefined), 20);
    const managed = run(odd({ kind: 'droptail' }), 20);
    expect(managed.packets.length).toBeGreaterThan(10_000);
    expect(managed.packets.filter((p) => p.kind === 'drop').length).toBeGreaterThan(0);
    const first = managed.packets.findIndex((p, i) => JSON.stringify(p) !== JSON.stringify(fast.packets[i]));
    expect(first, JSON.stringify([managed.packets.slice(first - 3, first + 3), fast.packets.slice(first - 3, first + 3)])).toBe(-1);
    expect(managed.summary).toEqual(fast.summary);
    const q = managed.bed.net.queueStats(0, 1);
    expect(q?.overflowDrops).toBe(managed.packets.filter((p) => p.kind === 'drop').length);
  });

  it('keeps the conservation law with CoDel (packets in the queue count as in flight)', () => {
    const r = run(fourFlows({ kind: 'codel', ...CODEL_DEFAULTS }), 10);
    const t = r.bed.net.total;
    expect(t.dropQueue).toBeGreaterThan(0);
    expect(t.sent + t.duplicated).toBe(t.delivered + t.dropLoss + t.dropQueue + t.dropPartition + t.dropNodeDown + r.bed.net.inFlight);
  });
});

describe('CoDel drop schedule (RFC 8289 section 5.3: drop_next = drop_next + interval / sqrt(count))', () => {
  it('every drop in the dropping state is made at the first departure at or after drop_next, and drop_next advances by interval / sqrt(count)', () => {
    const { queue, bed } = run(fourFlows({ kind: 'codel', ...CODEL_DEFAULTS }), 60);
    const interval = CODEL_DEFAULTS.intervalNs;
    const maxPacketTimeNs = Math.ceil(((1460 + 40) * 8 * 1e9) / BW);
    const drops = queue.filter((e) => e.action === 'drop');
    let inLoop = 0;
    let entries = 0;
    for (let i = 1; i < drops.length; i++) {
      const prev = drops[i - 1] as QueueEvent;
      const e = drops[i] as QueueEvent;
      if (!e.dropping) {
        entries++;
        // Section 5.4: count restarts at 1, or resumes at count - lastcount when re-entering within 16 intervals.
        continue;
      }
      inLoop++;
      expect(e.timeNs).toBeGreaterThanOrEqual(e.dropNextNs);
      expect(e.timeNs - e.dropNextNs).toBeLessThanOrEqual(maxPacketTimeNs);
      if (prev.dropping) {
        // Two drops of the same dropping episode: count grew by one, drop_next by interval / sqrt(previous count).
        expect(e.count).toBe(prev.count + 1);
        expect(e.dropNextNs - prev.dropNextNs).toBe(Math.round(interval / Math.sqrt(prev.count)));
      } else {
        // The first drop after entering at prev.timeNs with count c: drop_next = entry time + interval / sqrt(c).
        expect(e.dropNextNs - prev.timeNs).toBe(Math.round(interval / Math.sqrt(e.count - 1)));
      }
    }
    expect(inLoop).toBeGreaterThan(20);
    expect(entries).toBeGreaterThan(3);
    const q = bed.net.queueStats(0, 1);
    expect(q?.aqmDrops).toBe(drops.length);
    expect(q?.overflowDrops).toBe(0);
  });

  it('keeps the mean sojourn time near target where drop-tail lets the queue fill', () => {
    const codel = run(fourFlows({ kind: 'codel', ...CODEL_DEFAULTS }), 30).bed.net.queueStats(0, 1);
    const tail = run(fourFlows({ kind: 'droptail' }), 30).bed.net.queueStats(0, 1);
    const mean = (q: typeof codel): number => (q === undefined ? NaN : q.sojournSumNs / q.departed);
    expect(mean(codel)).toBeLessThan(4 * CODEL_DEFAULTS.targetNs);
    expect(mean(tail)).toBeGreaterThan(10 * mean(codel));
  });
});

describe('RED on the bottleneck (Floyd and Jacobson 1993)', () => {
  it('drops only with avg at or above min_th, and every drop at or above 2 max_th (gentle) is forced', () => {
    const spec = { kind: 'red' as const, ...RED_DEFAULTS, minThPackets: 20, maxThPackets: 60, maxP: 0.1 };
    const { queue, bed } = run(fourFlows(spec), 30);
    expect(queue.length).toBeGreaterThan(50);
    for (const e of queue) expect(e.avgPackets).toBeGreaterThanOrEqual(spec.minThPackets);
    const stats = bed.net.queueStats(0, 1);
    expect(stats?.aqmDrops).toBe(queue.length);
    // The queue limit (200) is not reached: RED keeps the average well below it.
    expect(stats?.overflowDrops).toBe(0);
  });
});

describe('ECN (RFC 3168)', () => {
  for (const aqm of [
    { kind: 'codel', ...CODEL_DEFAULTS, ecn: true },
    { kind: 'red', ...RED_DEFAULTS, minThPackets: 20, maxThPackets: 60, maxP: 0.1, ecn: true },
  ] as const) {
    it(`${aqm.kind}: marks instead of dropping; senders reduce at most once per RTT (6.1.2) and retransmit nothing for a mark`, () => {
      const r = run(fourFlows(aqm, true, 1000), 30);
      const stats = r.bed.net.queueStats(0, 1);
      expect(stats?.marks).toBeGreaterThan(50);
      expect(stats?.aqmDrops).toBe(0);
      expect(r.bed.net.total.dropQueue).toBe(0);
      // No loss anywhere, so no retransmission: every segment sent is new data.
      expect(r.segments.every((s) => s.kind === 'new')).toBe(true);
      expect(r.summary.every((f) => f.retransmits === 0 && f.ecnReductions > 0)).toBe(true);
      for (let flow = 0; flow < 4; flow++) {
        const rows = r.records.filter((x) => x.flow === flow);
        const cuts = rows.filter((x) => x.event === 'ecn');
        expect(cuts.length).toBe(r.summary[flow]?.ecnReductions);
        const baseRtt = r.bed.baseRttNs(flow);
        for (let i = 1; i < cuts.length; i++) {
          expect((cuts[i] as (typeof cuts)[0]).timeNs - (cuts[i - 1] as (typeof cuts)[0]).timeNs).toBeGreaterThanOrEqual(baseRtt);
        }
        // A reduction as for a loss: cwnd = ssthresh = max(FlightSize / 2, 2 SMSS), FlightSize <= cwnd before it.
        for (const c of cuts) {
          const before = rows[rows.indexOf(c) - 1];
          expect(c.cwndBytes).toBe(c.ssthreshBytes);
          if (before !== undefined) expect(c.cwndBytes).toBeLessThanOrEqual(Math.max(before.cwndBytes / 2, 2 * 1460));
        }
      }
    });
  }
});
