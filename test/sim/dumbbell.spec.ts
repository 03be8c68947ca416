import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/kernel/simulator.js';
import { collect } from '../../src/kernel/trace.js';
import { Dumbbell, type DumbbellConfig } from '../../src/sim/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;

function run(config: DumbbellConfig, seconds: number, seed = 1) {
  const sim = new Simulator({ seed });
  const bed = new Dumbbell(sim, config);
  const records = collect(bed.trace);
  bed.start();
  sim.run({ until: seconds * S });
  return { sim, bed, records, summary: bed.summary(sim.now) };
}

describe('Dumbbell', () => {
  const lossy: DumbbellConfig = {
    bottleneck: { bandwidthBps: 10e6, delayNs: 20 * MS, queuePackets: 20, loss: 0.01, jitterNs: 1 * MS },
    returnPath: { delayNs: 20 * MS, loss: 0.01 },
    flows: [{ variant: 'reno' }, { variant: 'newreno', startNs: 1 * S, extraRttNs: 30 * MS }],
  };

  it('is deterministic: same seed, same trace and summary; another seed differs', () => {
    const a = run(lossy, 10);
    const b = run(lossy, 10);
    expect(JSON.stringify(b.records)).toBe(JSON.stringify(a.records));
    expect(b.summary).toEqual(a.summary);
    const c = run(lossy, 10, 2);
    expect(JSON.stringify(c.records)).not.toBe(JSON.stringify(a.records));
  });

  it('shares the bottleneck: no more than the link carries, most of it used, drops traced per flow', () => {
    const cfg: DumbbellConfig = {
      bottleneck: { bandwidthBps: 10e6, delayNs: 10 * MS, queuePackets: 30 },
      returnPath: { delayNs: 10 * MS },
      flows: [{ variant: 'reno' }, { variant: 'reno', extraRttNs: 20 * MS }],
    };
    const r = run(cfg, 30);
    const total = r.summary.reduce((n, f) => n + f.throughputBps, 0);
    // Payload share of the wire: 1460 / 1500.
    expect(total).toBeLessThanOrEqual(10e6 * (1460 / 1500) * 1.001);
    expect(total).toBeGreaterThan(0.8 * 10e6);
    for (const f of r.summary) {
      expect(f.dataDrops).toBeGreaterThan(0); // drop-tail losses only (no random loss)
      expect(r.records.filter((x) => x.flow === f.flow && x.event === 'drop').length).toBe(f.dataDrops);
    }
    expect(r.bed.net.total.dropQueue).toBe(r.summary[0]!.dataDrops + r.summary[1]!.dataDrops);
    expect(r.bed.net.total.dropLoss).toBe(0);
  });

  it('gives each flow its base RTT (propagation, serialization, extra) and measures RTTs no smaller', () => {
    const cfg: DumbbellConfig = {
      bottleneck: { bandwidthBps: 100e6, delayNs: 10 * MS, queuePackets: 1000 },
      returnPath: { delayNs: 5 * MS },
      flows: [
        { variant: 'reno', totalBytes: 200_000 },
        { variant: 'reno', totalBytes: 200_000, extraRttNs: 40 * MS },
      ],
    };
    const r = run(cfg, 5);
    const ser = Math.round((1500 * 8 * 1e9) / 100e6);
    expect(r.bed.baseRttNs(0)).toBe(15 * MS + ser);
    expect(r.bed.baseRttNs(1)).toBe(55 * MS + ser);
    for (const f of r.summary) {
      expect(f.completedNs).toBeGreaterThan(0);
      expect(f.bytesDelivered).toBe(200_000);
      expect(f.meanRttNs).toBeGreaterThanOrEqual(f.baseRttNs);
      expect(f.meanRttNs).toBeLessThan(f.baseRttNs * 1.5);
    }
  });

  it('keeps about two kernel events per data packet (lazy RTO re-arm, no cancel per ACK)', () => {
    const cfg: DumbbellConfig = {
      bottleneck: { bandwidthBps: 100e6, delayNs: 5 * MS, queuePackets: 1000, loss: 1e-4 },
      returnPath: { delayNs: 5 * MS },
      flows: [{ variant: 'reno' }],
    };
    const r = run(cfg, 5);
    const sent = r.bed.sender(0).stats.segmentsSent;
    const acks = r.bed.receiver(0).acksSent;
    expect(sent).toBeGreaterThan(10_000);
    expect(r.sim.fired).toBeLessThan((sent + acks) * 1.01 + 100);
  });

  it('with delayed ACKs sends about one ACK per two segments', () => {
    const cfg: DumbbellConfig = {
      bottleneck: { bandwidthBps: 10e6, delayNs: 10 * MS, queuePackets: 100 },
      returnPath: { delayNs: 10 * MS },
      flows: [{ variant: 'reno', totalBytes: 1_460_000 }],
      delayedAck: true,
    };
    const r = run(cfg, 20);
    expect(r.summary[0]?.bytesDelivered).toBe(1_460_000);
    const ratio = r.bed.receiver(0).acksSent / r.bed.sender(0).stats.segmentsSent;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.65);
  });

  it('Gilbert-Elliott loss on the bottleneck drops data in bursts', () => {
    const cfg: DumbbellConfig = {
      bottleneck: {
        bandwidthBps: 10e6,
        delayNs: 10 * MS,
        queuePackets: 1000,
        loss: { model: 'gilbert-elliott', pGoodToBad: 0.002, pBadToGood: 0.3, lossGood: 0, lossBad: 1 },
      },
      returnPath: { delayNs: 10 * MS },
      flows: [{ variant: 'newreno' }],
    };
    const r = run(cfg, 30);
    const drops = r.records.filter((x) => x.event === 'drop');
    expect(drops.length).toBeGreaterThan(20);
    // Bursts: many drops come within two segment times (1.2 ms each) of the previous one (Bernoulli: ~2%).
    let close = 0;
    for (let i = 1; i < drops.length; i++) if (drops[i]!.timeNs - drops[i - 1]!.timeNs < 2.5 * MS) close++;
    expect(close / drops.length).toBeGreaterThan(0.3);
  });

  describe('burst loss regressions (Gilbert-Elliott, one flow alone, 10 Mbps, 100 ms RTT)', () => {
    const burst = (variant: 'tahoe' | 'newreno', queuePackets: number): DumbbellConfig => ({
      bottleneck: {
        bandwidthBps: 10e6,
        delayNs: 40 * MS,
        queuePackets,
        loss: { model: 'gilbert-elliott', pGoodToBad: 0.001, pBadToGood: 0.3, lossGood: 0, lossBad: 0.5 },
      },
      returnPath: { delayNs: 60 * MS },
      flows: [{ variant }],
    });

    it('Tahoe makes no spurious fast retransmits (it used to go back N and count the duplicates)', () => {
      const s = run(burst('tahoe', 100), 60).summary[0]!;
      expect(s.dataDrops).toBeGreaterThan(50);
      expect(s.fastRetransmits).toBeLessThanOrEqual(s.dataDrops);
      expect(s.retransmits).toBeLessThan(3 * s.dataDrops);
    });

    it('NewReno does not blow its window up after a long recovery (ssthresh from an inflated flight)', () => {
      const r = run(burst('newreno', 30), 60);
      const s = r.summary[0]!;
      expect(s.goodputBps).toBeGreaterThan(3e6);
      expect(s.dataDrops).toBeLessThan(20 * s.lossEvents);
      const maxSsthresh = Math.max(...r.records.filter((x) => Number.isFinite(x.ssthreshBytes)).map((x) => x.ssthreshBytes));
      // BDP (10 Mbps x 100 ms = 85 segments) plus the queue: ssthresh never needs to be far above it.
      expect(maxSsthresh / 1460).toBeLessThan(200);
    });
  });
});
