import { describe, expect, it } from 'vitest';
import {
  VARIANTS,
  congestionOps,
  congestionState,
  createControlBlock,
  rfc5681InitialWindow,
  rfc6928InitialWindow,
} from '../../../src/protocols/tcp/index.js';

const MSS = 1000;
const RENO_WINDOWS = ['tahoe', 'reno', 'newreno'] as const;

describe('Reno window rules on a bare control block', () => {
  it('slow start adds min(bytes acked, SMSS) per ACK (RFC 5681 eq. 2)', () => {
    const ops = congestionOps('reno');
    const tcb = createControlBlock(MSS, 2);
    ops.increaseWindow(tcb, MSS, 0);
    expect(tcb.cwnd).toBe(3 * MSS);
    ops.increaseWindow(tcb, 5 * MSS, 0); // a stretch ACK still opens by one SMSS
    expect(tcb.cwnd).toBe(4 * MSS);
    ops.increaseWindow(tcb, 300, 0);
    expect(tcb.cwnd).toBe(4 * MSS + 300);
    expect(congestionState(tcb)).toBe('slow_start');
  });

  it('congestion avoidance adds one SMSS per window of ACKs (about one per RTT)', () => {
    const ops = congestionOps('reno');
    const tcb = createControlBlock(MSS, 10);
    tcb.ssthresh = 10 * MSS;
    expect(congestionState(tcb)).toBe('congestion_avoidance');
    for (let i = 0; i < 9; i++) ops.increaseWindow(tcb, MSS, 0);
    expect(tcb.cwnd).toBe(10 * MSS);
    ops.increaseWindow(tcb, MSS, 0);
    expect(tcb.cwnd).toBe(11 * MSS);
    // The next increment needs 11 ACKs.
    for (let i = 0; i < 10; i++) ops.increaseWindow(tcb, MSS, 0);
    expect(tcb.cwnd).toBe(11 * MSS);
    ops.increaseWindow(tcb, MSS, 0);
    expect(tcb.cwnd).toBe(12 * MSS);
  });

  it('ssthresh after a loss is max(FlightSize / 2, 2 * SMSS) (RFC 5681 eq. 4)', () => {
    for (const v of RENO_WINDOWS) {
      const ops = congestionOps(v);
      const tcb = createControlBlock(MSS, 10);
      expect(ops.ssThresh(tcb, 20 * MSS)).toBe(10 * MSS);
      expect(ops.ssThresh(tcb, 3 * MSS)).toBe(2 * MSS);
      expect(ops.ssThresh(tcb, 0)).toBe(2 * MSS);
      expect(ops.ssThresh(tcb, 7001)).toBe(3500);
    }
  });

  it('the Reno-window variants differ only in loss recovery; CUBIC recovers as NewReno', () => {
    expect(VARIANTS.map((v) => congestionOps(v).recovery)).toEqual(['none', 'reno', 'newreno', 'newreno']);
    expect(VARIANTS.map((v) => congestionOps(v).name)).toEqual(['tahoe', 'reno', 'newreno', 'cubic']);
  });

  it('initial windows follow RFC 5681 and RFC 6928', () => {
    expect(rfc5681InitialWindow(536)).toBe(4);
    expect(rfc5681InitialWindow(1460)).toBe(3);
    expect(rfc5681InitialWindow(4000)).toBe(2);
    expect(rfc6928InitialWindow(1460)).toBe(10);
    expect(rfc6928InitialWindow(9000)).toBe(2);
  });

  it('rejects a control block below one segment', () => {
    expect(() => createControlBlock(MSS, 0)).toThrow(RangeError);
    expect(() => createControlBlock(0, 1)).toThrow(RangeError);
  });
});
