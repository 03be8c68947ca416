import { describe, expect, it } from 'vitest';
import { TcpReceiver } from '../../../src/protocols/tcp/index.js';

const MS = 1_000_000;

/** A receiver driven directly; `got` lists the in-order deliveries, read from its `deliver` trace actions. */
function withApp(delayedAck = false) {
  const gotList: [number, number][] = [];
  const r = new TcpReceiver({ delayedAck, trace: { active: true } });
  return {
    r,
    get got(): [number, number][] {
      for (const a of r.pollActions())
        if (a.type === 'trace' && a.name === 'deliver') gotList.push([a.data['start'] as number, a.data['end'] as number]);
      return gotList;
    },
  };
}

describe('TcpReceiver', () => {
  it('acknowledges in-order data cumulatively', () => {
    const app = withApp();
    const r = app.r;
    expect(r.onSegment(0, 1000, 0)).toBe(1000);
    expect(r.onSegment(1000, 1000, 1)).toBe(2000);
    expect(app.got).toEqual([
      [0, 1000],
      [1000, 2000],
    ]);
  });

  it('sends an immediate duplicate ACK per out-of-order segment and delivers when the gap fills', () => {
    const app = withApp(true);
    const r = app.r; // out-of-order handling is immediate even with delayed ACKs
    expect(r.onSegment(0, 1000, 0)).toBe(-1);
    expect(r.onSegment(2000, 1000, 1)).toBe(1000);
    expect(r.onSegment(4000, 1000, 2)).toBe(1000);
    expect(r.onSegment(3000, 1000, 3)).toBe(1000);
    expect(r.bufferedBytes).toBe(3000);
    expect(app.got).toEqual([[0, 1000]]);
    expect(r.onSegment(1000, 1000, 4)).toBe(5000); // fills the gap: immediate ACK of everything
    expect(app.got).toEqual([
      [0, 1000],
      [1000, 5000],
    ]);
    expect(r.bufferedBytes).toBe(0);
  });

  it('acknowledges duplicates at once and never delivers a byte twice', () => {
    const app = withApp();
    const r = app.r;
    r.onSegment(0, 1000, 0);
    expect(r.onSegment(0, 1000, 1)).toBe(1000);
    expect(r.duplicateSegments).toBe(1);
    r.onSegment(3000, 1000, 2);
    r.onSegment(3000, 1000, 3); // duplicate out-of-order segment
    expect(r.bufferedBytes).toBe(1000);
    r.onSegment(500, 2000, 4); // overlaps delivered data and ends before the buffered range
    expect(r.onSegment(2500, 1000, 5)).toBe(4000);
    const bytes = app.got.reduce((n, [s, e]) => n + e - s, 0);
    expect(bytes).toBe(4000);
    for (let i = 1; i < app.got.length; i++) expect(app.got[i]?.[0]).toBe(app.got[i - 1]?.[1]);
  });

  it('delays ACKs: every second segment, or when the timer expires', () => {
    const app = withApp(true);
    const r = app.r;
    expect(r.onSegment(0, 1000, 0)).toBe(-1);
    expect(r.delackDeadlineNs).toBe(200 * MS);
    expect(r.onSegment(1000, 1000, 10 * MS)).toBe(2000);
    expect(r.delackDeadlineNs).toBe(-1);
    expect(r.onSegment(2000, 1000, 20 * MS)).toBe(-1);
    expect(r.onDelayedAckTimer(100 * MS)).toBe(-1); // not due
    expect(r.onDelayedAckTimer(220 * MS)).toBe(3000);
    expect(r.acksSent).toBe(2);
  });

  describe('SACK blocks (RFC 2018)', () => {
    /** The SACK blocks of the ACKs a receiver sends, one entry per ACK: [[start, end], ...]. */
    function acks(r: TcpReceiver): number[][][] {
      return r.pollActions().flatMap((a) => {
        if (a.type !== 'send') return [];
        const b = a.msg.sack ?? [];
        const pairs: number[][] = [];
        for (let i = 0; i + 1 < b.length; i += 2) pairs.push([b[i] as number, b[i + 1] as number]);
        return [pairs];
      });
    }
    const seg = (r: TcpReceiver, seq: number): void => r.handleMessage(1, { flow: 0, seq, len: 100 }, 0);

    it('reports the block of the segment that triggered the ACK first, then the most recent others (section 4)', () => {
      const r = new TcpReceiver({ sack: true });
      seg(r, 0);
      seg(r, 200); // hole at 100
      seg(r, 400); // hole at 300
      seg(r, 300); // fills 300: [200, 300), [300, 400) and [400, 500) make one block, reported first
      seg(r, 700);
      expect(acks(r)).toEqual([
        [],
        [[200, 300]],
        [
          [400, 500],
          [200, 300],
        ],
        [[200, 500]],
        [
          [700, 800],
          [200, 500],
        ],
      ]);
    });

    it('at most 4 blocks without timestamps, 3 with them (section 3); a segment that advances the ACK reports none of its own', () => {
      const four = new TcpReceiver({ sack: true });
      const three = new TcpReceiver({ sack: true, timestamps: true });
      for (const r of [four, three]) for (const s of [0, 200, 400, 600, 800, 1000]) seg(r, s);
      expect(acks(four).at(-1)).toEqual([
        [1000, 1100],
        [800, 900],
        [600, 700],
        [400, 500],
      ]);
      expect(acks(three).at(-1)).toEqual([
        [1000, 1100],
        [800, 900],
        [600, 700],
      ]);
      seg(four, 100); // fills the first hole: rcvNxt 300, [200, 300) is no longer reported
      expect(acks(four)).toEqual([
        [
          [1000, 1100],
          [800, 900],
          [600, 700],
          [400, 500],
        ],
      ]);
      expect(four.rcvNxt).toBe(300);
    });

    it('without SACK the ACKs carry no blocks at all', () => {
      const r = new TcpReceiver();
      seg(r, 0);
      seg(r, 200);
      for (const a of r.pollActions()) if (a.type === 'send') expect('sack' in a.msg).toBe(false);
    });
  });
});
