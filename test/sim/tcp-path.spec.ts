/**
 * The path settings of a TCP flow, each checked from the traces it leaves: an initial ssthresh
 * (slow start ends there, with no loss), a receive window (the sender never has more than it
 * outstanding), a return path with a bandwidth (ACKs arrive spaced by their serialization time
 * there) and the recovery exit rule (`linux` lets the ACK that ends recovery count toward the next
 * congestion-avoidance increment, `rfc` does not).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import type { TcpPacket } from '../../src/protocols/tcp/packet.js';
import { TcpReceiver } from '../../src/protocols/tcp/receiver.js';
import type { TcpTraceRecord } from '../../src/protocols/tcp/sender.js';
import { Dumbbell, type DumbbellConfig } from '../../src/sim/index.js';
import type { TcpSegmentRecord } from '../../src/sim/tcp-flows.js';
import { fcParams } from '../fc.js';

const MS = 1_000_000;
const S = 1_000_000_000;
const MSS = 1460;

function run(config: DumbbellConfig, seconds: number, seed = 1) {
  const sim = new Simulator({ seed });
  const bed = new Dumbbell(sim, config);
  const records: TcpTraceRecord[] = collect(bed.trace);
  const segments: TcpSegmentRecord[] = collect(bed.flows.segments);
  bed.start();
  sim.run({ until: seconds * S });
  return { sim, bed, records, segments, summary: bed.summary(sim.now) };
}

/** A loss-free path (10 Mbps, 20 ms each way) whose queue no window of these runs fills. */
function clean(over: Partial<DumbbellConfig> = {}): DumbbellConfig {
  return {
    bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: 10_000 },
    returnPath: { delayNs: 20 * MS },
    flows: [{ variant: 'reno' }],
    ...over,
  };
}

const isLoss = (r: TcpTraceRecord): boolean => r.event === 'drop' || r.event === 'fast_retransmit' || r.event === 'timeout';

describe('initial ssthresh (RFC 5681 3.1)', () => {
  it('slow start ends at the configured ssthresh with no loss; unlimited, it lasts until the first loss', () => {
    const r = run(clean({ initialSsthreshSegments: 20 }), 3);
    const ca = r.records.findIndex((x) => x.state === 'congestion_avoidance');
    expect(ca).toBeGreaterThan(0);
    expect(r.records[ca]?.cwndBytes).toBe(20 * MSS);
    expect(r.records.some(isLoss)).toBe(false);
    expect(r.records.every((x) => x.ssthreshBytes === 20 * MSS)).toBe(true);

    const u = run(clean({ bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: 30 } }), 5);
    const loss = u.records.findIndex(isLoss);
    expect(loss).toBeGreaterThan(0);
    expect(u.records.findIndex((x) => x.state === 'congestion_avoidance')).toBeGreaterThan(loss);
    expect(u.records.slice(0, loss).every((x) => x.ssthreshBytes === Infinity)).toBe(true);
  });

  it('property: the window leaves slow start at max(initial window, ssthresh), before any loss', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 2, max: 60 }),
        fc.constantFrom('reno', 'newreno', 'tahoe'),
        (iw, ss, variant) => {
          const r = run(clean({ initialWindowSegments: iw, initialSsthreshSegments: ss, flows: [{ variant }] }), 2);
          const ca = r.records.findIndex((x) => x.state === 'congestion_avoidance');
          expect(ca).toBeGreaterThanOrEqual(0);
          expect(r.records[ca]?.cwndBytes).toBe(Math.max(iw, ss) * MSS);
          expect(r.records.slice(0, ca + 1).some(isLoss)).toBe(false);
        },
      ),
      fcParams({ numRuns: 30 }),
    );
  });
});

describe('receive window', () => {
  it('every ACK advertises it; without one, ACKs carry no window', () => {
    for (const [rwnd, want] of [
      [5000, 5000],
      [undefined, undefined],
    ] as const) {
      const rx = new TcpReceiver(rwnd === undefined ? {} : { rwndBytes: rwnd });
      rx.handleMessage(1, { flow: 0, seq: 0, len: MSS }, 0);
      rx.handleMessage(1, { flow: 0, seq: 2 * MSS, len: MSS }, 1); // out of order: a duplicate ACK
      const acks = rx.pollActions().flatMap((a) => (a.type === 'send' ? [a.msg] : []));
      expect(acks.map((a: TcpPacket) => a.seq)).toEqual([MSS, MSS]);
      for (const a of acks) expect(a.wnd).toBe(want);
    }
  });

  it('property: the bytes outstanding after every send are at most the window, and the window binds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MSS, max: 40 * MSS }),
        fc.constantFrom(0, 0.01, 0.03),
        fc.boolean(),
        fc.constantFrom('reno', 'newreno'),
        fc.integer({ min: 1, max: 1000 }),
        (rwnd, loss, sack, variant, seed) => {
          const cfg = clean({
            bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: 30, loss },
            flows: [{ variant, sack }],
            rwndBytes: rwnd,
          });
          const r = run(cfg, 4, seed);
          expect(r.segments.length).toBeGreaterThan(0);
          let most = 0;
          for (const s of r.segments) {
            const outstanding = s.seq + s.len - s.sndUna;
            expect(outstanding).toBeLessThanOrEqual(rwnd);
            if (outstanding > most) most = outstanding;
          }
          // Without random loss the window binds (below the 65 segments the path and queue hold): some send fills it to within a segment.
          if (loss === 0) expect(most).toBeGreaterThan(rwnd - MSS);
        },
      ),
      fcParams({ numRuns: 40 }),
    );
  });

  it('a window below the bandwidth-delay product caps goodput at rwnd / RTT', () => {
    const cfg = clean({ bottleneck: { bandwidthBps: 100e6, delayNs: 50 * MS, queuePackets: 10_000 }, returnPath: { delayNs: 50 * MS } });
    const rwnd = 10 * MSS;
    const limited = run({ ...cfg, rwndBytes: rwnd }, 10).summary[0]!;
    const expected = (rwnd * 8 * S) / limited.baseRttNs;
    expect(limited.goodputBps / expected).toBeGreaterThan(0.97);
    expect(limited.goodputBps / expected).toBeLessThanOrEqual(1);
    expect(run(cfg, 5).summary[0]!.goodputBps).toBeGreaterThan(20 * expected);
  });
});

describe('return path with a bandwidth and a queue', () => {
  // Data: 1500 bytes at 10 Mbps = 1.2 ms. ACKs: 40 bytes at 200 kbps = 1.6 ms, slower: the ACK path is the bottleneck.
  const ackSerNs = (40 * 8 * S) / 200e3;
  const dataSerNs = (1500 * 8 * S) / 10e6;
  const spacings = (records: readonly TcpTraceRecord[]): number[] => {
    const acks = records.filter((x) => x.event === 'ack' && x.timeNs > 1 * S);
    return acks.slice(1).map((x, i) => x.timeNs - (acks[i] as TcpTraceRecord).timeNs);
  };

  it('ACKs arrive spaced by their serialization time at the return bottleneck (ACK compression), and goodput follows the ACK rate', () => {
    // In congestion avoidance from the start (ssthresh 10), each ACK lets out about one segment.
    const slow = run(clean({ returnPath: { delayNs: 20 * MS, bandwidthBps: 200e3 }, initialSsthreshSegments: 10 }), 6);
    const gaps = spacings(slow.records);
    expect(gaps.length).toBeGreaterThan(1000);
    expect(Math.min(...gaps)).toBe(ackSerNs);
    // Back to back behind a standing ACK queue: nearly every gap is exactly one ACK's serialization.
    expect(gaps.filter((g) => g === ackSerNs).length / gaps.length).toBeGreaterThan(0.95);
    // About one segment per ACK (one more per window of ACKs): the ACK rate (625/s) sets the goodput, 625 x 1460 x 8 = 7.3 Mbps.
    const ackLimited = (MSS * 8 * S) / ackSerNs;
    expect(slow.summary[0]!.goodputBps / ackLimited).toBeGreaterThan(0.9);
    expect(slow.summary[0]!.goodputBps / ackLimited).toBeLessThan(1.05);

    const fast = run(clean({ initialSsthreshSegments: 10 }), 6);
    expect(Math.min(...spacings(fast.records))).toBe(dataSerNs);
    expect(fast.summary[0]!.goodputBps).toBeGreaterThan(1.2 * slow.summary[0]!.goodputBps);
  });

  it('its queue drops ACKs when full (and only ACKs: the data path loses nothing)', () => {
    const small = run(clean({ returnPath: { delayNs: 20 * MS, bandwidthBps: 200e3, queuePackets: 5 } }), 6);
    expect(small.summary[0]!.dataDrops).toBe(0);
    expect(small.bed.net.total.dropQueue).toBeGreaterThan(0);
    const big = run(clean({ returnPath: { delayNs: 20 * MS, bandwidthBps: 200e3 } }), 6);
    expect(big.bed.net.total.dropQueue).toBe(0);
  });
});

describe('recovery exit: rfc | linux', () => {
  /** ACKs after the recovery exit up to and including the one that first grows cwnd, and the window then (segments). */
  function acksToGrow(recoveryExit: 'rfc' | 'linux', variant: 'reno' | 'newreno', sack: boolean): { acks: number; window: number } {
    const cfg = clean({
      flows: [{ variant, sack }],
      initialSsthreshSegments: 30,
      recoveryExit,
      dropData: (_flow, seq, n) => seq === 100 * MSS && n === 1,
    });
    const r = run(cfg, 5);
    const exit = r.records.findIndex((x) => x.event === 'recovery_exit');
    expect(exit).toBeGreaterThan(0);
    const at = r.records[exit] as TcpTraceRecord;
    expect(at.cwndBytes).toBe(at.ssthreshBytes); // both rules deflate to ssthresh
    const after = r.records.slice(exit + 1);
    const grew = after.findIndex((x) => x.cwndBytes > at.cwndBytes);
    expect(after.slice(0, grew + 1).every((x) => x.event === 'ack')).toBe(true);
    return { acks: grew + 1, window: at.cwndBytes / MSS };
  }

  for (const variant of ['reno', 'newreno'] as const) {
    for (const sack of [false, true]) {
      it(`${variant}${sack ? ' with SACK' : ''}: rfc grows cwnd after a window of ACKs past the exit, linux one ACK sooner`, () => {
        const rfc = acksToGrow('rfc', variant, sack);
        const linux = acksToGrow('linux', variant, sack);
        expect(rfc.window).toBeGreaterThan(2);
        expect(linux.window).toBe(rfc.window);
        expect(rfc.acks).toBe(rfc.window);
        expect(linux.acks).toBe(rfc.window - 1);
      });
    }
  }

  it('rfc is the default: the same trace as without the setting', () => {
    const cfg = clean({ bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: 20, loss: 0.01 } });
    expect(JSON.stringify(run({ ...cfg, recoveryExit: 'rfc' }, 10).records)).toBe(JSON.stringify(run(cfg, 10).records));
    expect(JSON.stringify(run({ ...cfg, recoveryExit: 'linux' }, 10).records)).not.toBe(JSON.stringify(run(cfg, 10).records));
  });
});
