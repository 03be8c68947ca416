import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpSender, congestionOps, type TcpTraceRecord, type TcpTxRecord, type Variant } from '../../../src/protocols/tcp/index.js';
import { fcParams } from '../../fc.js';

const MSS = 1000;
const MS = 1_000_000;
const S = 1_000_000_000;

interface Tx {
  seq: number;
  len: number;
  retx: boolean;
}

/**
 * A sender driven directly (no simulator): `sent` and `records` are read from its actions, drained
 * on each access. The `tx` records that follow each segment must match it and the state after it.
 */
function setup(variant: Variant, iw = 10, totalBytes = Infinity) {
  const sentList: Tx[] = [];
  const recordList: TcpTraceRecord[] = [];
  const s = new TcpSender({ mssBytes: MSS, initialWindowSegments: iw, totalBytes, ops: congestionOps(variant), peer: 1, trace: { active: true } });
  const drain = (): void => {
    let last: Tx | undefined;
    for (const a of s.pollActions()) {
      if (a.type === 'send') {
        expect(a.to).toBe(1);
        expect(a.sizeBytes).toBe(a.msg.len + 40);
        last = { seq: a.msg.seq, len: a.msg.len, retx: a.msg.seq < 0 };
        sentList.push(last);
      } else if (a.type === 'trace' && a.name === 'cwnd') recordList.push(a.data as TcpTraceRecord);
      else if (a.type === 'trace' && a.name === 'tx') {
        const tx = a.data as TcpTxRecord;
        expect(last).toBeDefined();
        expect([tx.seq, tx.len, tx.event]).toEqual([last?.seq, last?.len, 'drop']);
        (last as Tx).retx = tx.retransmission === 1;
        last = undefined;
      }
    }
  };
  const h = {
    s,
    get sent(): Tx[] {
      drain();
      return sentList;
    },
    get records(): TcpTraceRecord[] {
      drain();
      return recordList;
    },
    last: (): TcpTraceRecord => h.records[h.records.length - 1] as TcpTraceRecord,
  };
  return h;
}

/** Sends 10 segments (0..9000), acks the first (slow start sends 10000 and 11000), then three duplicate ACKs of 1000. */
function toFastRetransmit(variant: Variant) {
  const h = setup(variant);
  h.s.open(0);
  expect(h.sent.map((t) => t.seq)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
  h.s.onAck(1000, 100 * MS);
  expect(h.s.tcb.cwnd).toBe(11 * MSS);
  expect(h.sent.slice(10).map((t) => t.seq)).toEqual([10000, 11000]);
  h.sent.length = 0;
  h.s.onAck(1000, 101 * MS);
  h.s.onAck(1000, 102 * MS);
  expect(h.sent).toEqual([]);
  expect(h.last().event).toBe('dupack');
  expect(h.s.dupacks).toBe(2);
  h.s.onAck(1000, 103 * MS);
  return h;
}

describe('TcpSender, hand-worked sequences', () => {
  it('Reno: fast retransmit, inflation per duplicate ACK, deflation on the new ACK', () => {
    const h = toFastRetransmit('reno');
    // FlightSize = 12000 - 1000 = 11000 -> ssthresh 5500; cwnd = 5500 + 3 * 1000.
    expect(h.s.tcb.ssthresh).toBe(5500);
    expect(h.s.tcb.cwnd).toBe(8500);
    expect(h.sent).toEqual([{ seq: 1000, len: 1000, retx: true }]);
    expect(h.last()).toMatchObject({ event: 'fast_retransmit', state: 'fast_recovery', dupacks: 3 });
    h.sent.length = 0;
    // Each further duplicate inflates by one SMSS; new data goes out once cwnd exceeds the flight (11000) by a segment.
    const cwnds: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.s.onAck(1000, (104 + i) * MS);
      cwnds.push(h.s.tcb.cwnd);
    }
    expect(cwnds).toEqual([9500, 10500, 11500, 12500]);
    expect(h.sent).toEqual([{ seq: 12000, len: 1000, retx: false }]);
    expect(h.last()).toMatchObject({ event: 'dupack', state: 'fast_recovery', dupacks: 7 });
    // The ACK of new data ends recovery: cwnd = ssthresh.
    h.s.onAck(13000, 200 * MS);
    expect(h.s.tcb.cwnd).toBe(5500);
    expect(h.s.tcb.inRecovery).toBe(false);
    expect(h.last()).toMatchObject({ event: 'recovery_exit', state: 'congestion_avoidance', dupacks: 0 });
    expect(h.s.stats.fastRetransmits).toBe(1);
    expect(h.s.stats.retransmits).toBe(1);
  });

  it('Reno leaves recovery on a partial ACK and needs a second fast retransmit for a second hole', () => {
    const h = toFastRetransmit('reno');
    h.s.onAck(4000, 200 * MS); // holes at 1000 and 4000: the retransmission of 1000 acks up to 4000
    expect(h.last().event).toBe('recovery_exit');
    expect(h.s.tcb.cwnd).toBe(5500);
    h.sent.length = 0;
    for (let i = 0; i < 3; i++) h.s.onAck(4000, (201 + i) * MS);
    // No `recover` guard in Reno (RFC 5681): the window is halved again.
    expect(h.last().event).toBe('fast_retransmit');
    expect(h.sent[0]).toEqual({ seq: 4000, len: 1000, retx: true });
    expect(h.s.tcb.ssthresh).toBe(2750); // FlightSize 12000 - 4000 = 8000, capped at the deflated cwnd 5500
    expect(h.s.stats.fastRetransmits).toBe(2);
  });

  it('NewReno: a partial ACK retransmits the next hole, deflates partially and stays in recovery', () => {
    const h = toFastRetransmit('newreno');
    expect(h.s.recover).toBe(11999);
    h.sent.length = 0;
    h.s.onAck(4000, 200 * MS); // partial: recover is 11999
    expect(h.sent[0]).toEqual({ seq: 4000, len: 1000, retx: true });
    // cwnd = 8500 - 3000 (acked) + 1000 = 6500
    expect(h.s.tcb.cwnd).toBe(6500);
    expect(h.s.tcb.inRecovery).toBe(true);
    expect(h.last()).toMatchObject({ event: 'ack', state: 'fast_recovery' });
    // Timer restarted on the first partial ACK only.
    expect(h.s.rtoDeadlineNs).toBe(200 * MS + h.s.rtt.rtoNs);
    h.s.onAck(5000, 250 * MS);
    expect(h.s.rtoDeadlineNs).toBe(200 * MS + h.s.rtt.rtoNs);
    expect(h.s.tcb.inRecovery).toBe(true);
    // The full ACK (covers recover) ends recovery with cwnd = ssthresh.
    h.s.onAck(12000, 300 * MS);
    expect(h.last()).toMatchObject({ event: 'recovery_exit', state: 'congestion_avoidance' });
    expect(h.s.tcb.cwnd).toBe(5500);
    expect(h.s.stats.fastRetransmits).toBe(1);
  });

  it('NewReno does not fast-retransmit again for duplicates below recover', () => {
    const h = toFastRetransmit('newreno');
    h.s.onAck(12000, 300 * MS); // full ACK, recovery over
    // Timeout-free go: three duplicates of an ACK <= recover (stale data) do not trigger.
    const s = h.s;
    s.recover = 20000; // as after a timeout that sent up to 20000
    for (let i = 0; i < 3; i++) s.onAck(12000, (301 + i) * MS);
    expect(s.stats.fastRetransmits).toBe(1);
    expect(h.last().event).toBe('dupack');
  });

  it('Tahoe: the third duplicate ACK resends one segment and returns to slow start; later duplicates do nothing', () => {
    const h = toFastRetransmit('tahoe');
    expect(h.s.tcb.ssthresh).toBe(5500);
    expect(h.s.tcb.cwnd).toBe(MSS);
    expect(h.sent).toEqual([{ seq: 1000, len: 1000, retx: true }]);
    expect(h.last()).toMatchObject({ event: 'fast_retransmit', state: 'slow_start', sndNxt: 12000 });
    h.sent.length = 0;
    for (let i = 0; i < 5; i++) h.s.onAck(1000, (104 + i) * MS);
    expect(h.sent).toEqual([]);
    expect(h.s.stats.fastRetransmits).toBe(1);
    // Slow start from one segment; new data waits until the flight fits in cwnd.
    h.s.onAck(4000, 200 * MS);
    expect(h.s.tcb.cwnd).toBe(2 * MSS);
    expect(h.sent).toEqual([]);
    h.s.onAck(12000, 300 * MS);
    expect(h.s.tcb.cwnd).toBe(3 * MSS);
    expect(h.sent.map((t) => [t.seq, t.retx])).toEqual([
      [12000, false],
      [13000, false],
      [14000, false],
    ]);
    expect(h.records.every((r) => r.state !== 'fast_recovery')).toBe(true);
  });

  it("RTO: back-off doubles, ssthresh is set once, and Karn's rule skips retransmitted segments", () => {
    const h = setup('reno', 4);
    h.s.open(0);
    h.s.onAck(1000, 100 * MS); // sample 100 ms; RTO = max(1 s, 300 ms) = 1 s
    expect(h.s.rtt.srttNs).toBe(100 * MS);
    expect(h.s.rtoDeadlineNs).toBe(1100 * MS);
    h.sent.length = 0;
    h.s.onTimeout(1100 * MS);
    expect(h.last()).toMatchObject({ event: 'timeout', state: 'slow_start', cwndBytes: MSS });
    expect(h.s.tcb.ssthresh).toBe(2500); // FlightSize 6000 - 1000 = 5000 -> 2500
    expect(h.sent).toEqual([{ seq: 1000, len: 1000, retx: true }]);
    expect(h.s.rtt.rtoNs).toBe(2 * S);
    expect(h.s.rtoDeadlineNs).toBe(1100 * MS + 2 * S);
    // The timer is not due before its deadline.
    h.s.onTimeout(2 * S);
    expect(h.s.stats.timeouts).toBe(1);
    h.s.onTimeout(3100 * MS);
    expect(h.s.rtt.rtoNs).toBe(4 * S);
    expect(h.s.tcb.ssthresh).toBe(2500); // kept: this data already timed out
    expect(h.s.stats.timeouts).toBe(2);
    expect(h.s.stats.firstTimeouts).toBe(1);
    // The ACK of the retransmitted segment gives no RTT sample (Karn) and keeps the backed-off RTO.
    h.sent.length = 0;
    h.s.onAck(2000, 3200 * MS);
    expect(h.s.rtt.samples).toBe(1);
    expect(h.s.rtt.rtoNs).toBe(4 * S);
    expect(h.sent.map((t) => t.seq)).toEqual([2000, 3000]);
    expect(h.sent.every((t) => t.retx)).toBe(true);
    // 2000..5000 were retransmitted too: no sample; 6000 is new data.
    h.sent.length = 0;
    h.s.onAck(4000, 3300 * MS);
    expect(h.sent.map((t) => [t.seq, t.retx])).toEqual([
      [4000, true],
      [5000, true],
      [6000, false],
    ]);
    h.s.onAck(7000, 3400 * MS); // covers retransmitted segments: still no sample
    expect(h.s.rtt.samples).toBe(1);
    expect(h.s.rtt.rtoNs).toBe(4 * S);
    h.s.onAck(8000, 3500 * MS); // segment 7000, sent once at 3.4 s: a 100 ms sample
    expect(h.s.rtt.samples).toBe(2);
    expect(h.s.rtt.backoffs).toBe(0);
    expect(h.s.rtt.rtoNs).toBe(1 * S);
  });

  it('ignores stale ACKs, ACKs of unsent data, and duplicates when nothing is outstanding', () => {
    const h = setup('reno', 2, 2000);
    h.s.open(0);
    h.s.onAck(5000, 10 * MS);
    expect(h.s.sndUna).toBe(0);
    h.s.onAck(2000, 100 * MS);
    expect(h.s.done).toBe(true);
    expect(h.s.stats.completedNs).toBe(100 * MS);
    expect(h.s.rtoDeadlineNs).toBe(-1);
    const n = h.records.length;
    for (let i = 0; i < 5; i++) h.s.onAck(2000, 200 * MS);
    h.s.onAck(1000, 200 * MS);
    expect(h.s.dupacks).toBe(0);
    expect(h.records.length).toBe(n);
  });

  it('sends a short last segment and finishes a finite transfer', () => {
    const h = setup('newreno', 3, 2500);
    h.s.open(0);
    expect(h.sent).toEqual([
      { seq: 0, len: 1000, retx: false },
      { seq: 1000, len: 1000, retx: false },
      { seq: 2000, len: 500, retx: false },
    ]);
    h.s.onAck(2500, 50 * MS);
    expect(h.s.done).toBe(true);
  });
});

/** The retransmissions among `sent` (seq only). */
const retransmitted = (sent: readonly Tx[]): number[] => sent.filter((t) => t.retx).map((t) => t.seq);

describe('TcpSender, RFC conformance of loss recovery', () => {
  // The receiver's view is written beside each ACK: segments are named by their first byte, "holds" lists
  // out-of-order segments it buffered. Every ACK below is the one a cumulative-ACK receiver would send.
  for (const variant of ['reno', 'newreno'] as const) {
    it(`${variant}: no fast retransmit after an RTO on duplicate ACKs at or below recover (RFC 6582 3.2 step 2 and section 4)`, () => {
      const h = setup(variant, 10);
      const s = h.s;
      s.open(0); // 0..9000; 0, 1000, 3000 and 6000 are lost
      for (let i = 0; i < 6; i++) s.onAck(0, (100 + i) * MS); // from 2000, 4000, 5000, 7000, 8000, 9000
      // Third duplicate: fast retransmit of 0 (lost again); ssthresh = 10000 / 2; inflation sends 10000.
      expect(s.stats.fastRetransmits).toBe(1);
      expect(s.tcb.ssthresh).toBe(5000);
      expect(s.highTx).toBe(11000);
      h.sent.length = 0;

      // The timer set at 0 fires (initial RTO 1 s); 10000 is still in flight. Timeout in recovery keeps ssthresh.
      s.onTimeout(1 * S);
      expect(s.recover).toBe(10999); // RFC 6582 3.2 step 4: the highest byte sent
      expect(h.last()).toMatchObject({ event: 'timeout', cwndBytes: MSS, ssthreshBytes: 5000 });
      s.onAck(0, 1050 * MS); // 10000 arrives (holds 2000, 4000, 5000, 7000..10000)
      // Go-back-N in slow start; each retransmitted hole moves the ACK to the next hole, and the
      // retransmitted segments the receiver already holds come back as duplicate ACKs.
      s.onAck(1000, 1100 * MS); // 0 arrives; cwnd 2: resend 1000, 2000
      s.onAck(3000, 1200 * MS); // 1000 arrives; cwnd 3: resend 3000, 4000, 5000
      s.onAck(3000, 1201 * MS); // 2000 (held): duplicate
      s.onAck(6000, 1300 * MS); // 3000 arrives; cwnd 4: resend 6000..9000
      s.onAck(6000, 1301 * MS); // 4000 (held)
      s.onAck(6000, 1302 * MS); // 5000 (held)
      expect(retransmitted(h.sent)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
      h.sent.length = 0;
      // 6000 arrives: the ACK is everything sent before the timeout (recover + 1); cwnd 5 = ssthresh: new data.
      s.onAck(11000, 1400 * MS);
      expect(h.sent.map((t) => [t.seq, t.retx])).toEqual([
        [11000, false],
        [12000, false],
        [13000, false],
        [14000, false],
        [15000, false],
      ]);
      h.sent.length = 0;
      // 7000, 8000, 9000 (held) come back as three duplicates of 11000 = recover + 1: they cover recover,
      // not more, so they are no loss signal. Before the fix they triggered a fast retransmit and halved
      // ssthresh to 2500.
      for (let i = 0; i < 3; i++) s.onAck(11000, (1401 + i) * MS);
      expect(h.sent).toEqual([]);
      expect(s.stats.fastRetransmits).toBe(1);
      expect(s.tcb.ssthresh).toBe(5000);
      expect(h.last()).toMatchObject({
        event: 'dupack',
        dupacks: 3,
        state: 'congestion_avoidance',
        ssthreshBytes: 5000,
      });
      expect(h.records.filter((r) => r.event === 'fast_retransmit')).toHaveLength(1);

      // A new loss above recover still triggers it: 12000 is lost, 13000..15000 arrive.
      s.onAck(12000, 1500 * MS); // 11000 arrives; the window (5 segments) has room for 16000
      h.sent.length = 0;
      for (let i = 0; i < 3; i++) s.onAck(12000, (1501 + i) * MS);
      expect(s.stats.fastRetransmits).toBe(2);
      expect(h.sent[0]).toEqual({ seq: 12000, len: MSS, retx: true });
      expect(h.last().event).toBe('fast_retransmit');
    });
  }

  it('newreno: one retransmission per partial ACK; recovery ends only when an ACK covers recover (RFC 6582 3.2 steps 2-3)', () => {
    const h = setup('newreno', 10);
    const s = h.s;
    s.open(0); // 0..9000; 0, 3000 and 9000 are lost
    for (let i = 0; i < 7; i++) s.onAck(0, (100 + i) * MS); // from 1000, 2000, 4000..8000
    expect(h.last().event).toBe('dupack');
    expect(s.recover).toBe(9999);
    expect(s.stats.fastRetransmits).toBe(1);
    expect(retransmitted(h.sent)).toEqual([0]);
    expect(s.highTx).toBe(12000); // inflation to 12000 sent 10000 and 11000
    const partial = (ack: number, at: number, hole: number): void => {
      h.sent.length = 0;
      s.onAck(ack, at);
      expect(retransmitted(h.sent), `ACK ${ack}`).toEqual([hole]);
      expect(h.last(), `ACK ${ack}`).toMatchObject({ event: 'ack', state: 'fast_recovery', sndUna: ack });
    };
    partial(3000, 200 * MS, 3000); // 0 arrives
    partial(9000, 300 * MS, 9000); // 3000 arrives; 9000 ends at 9999 = recover: still partial
    h.sent.length = 0;
    s.onAck(10000, 400 * MS); // 9000 arrives; 10000 and 11000 still in flight: covers recover (9999)
    expect(retransmitted(h.sent)).toEqual([]);
    expect(h.last()).toMatchObject({ event: 'recovery_exit', state: 'congestion_avoidance', cwndBytes: 5000 });
    expect(s.stats.retransmits).toBe(3);
  });

  it('newreno, any holes in one window: each partial ACK resends exactly the next hole, and only the ACK that covers recover ends recovery (RFC 6582 3.2)', () => {
    // A FIFO path that loses the chosen segments of the initial window once (at least three arrive
    // after the first hole, so it gets its three duplicate ACKs); the receiver ACKs every segment.
    const window = fc.integer({ min: 4, max: 40 });
    const scenario = window
      .chain((iw) => fc.record({ iw: fc.constant(iw), lost: fc.uniqueArray(fc.nat(iw - 1), { minLength: 1, maxLength: iw - 3 }) }))
      .filter(({ iw, lost }) => iw - 1 - Math.min(...lost) - (lost.length - 1) >= 3);
    fc.assert(
      fc.property(scenario, ({ iw, lost }) => {
        const h = setup('newreno', iw);
        const s = h.s;
        const lostOnce = new Set(lost.map((k) => k * MSS));
        const received = new Set<number>();
        const path: Tx[] = [];
        let nextPushed = 0;
        const pump = (): void => {
          for (; nextPushed < h.sent.length; nextPushed++) path.push(h.sent[nextPushed] as Tx);
        };
        s.open(0);
        pump();
        let now = 0;
        let recoverAtEntry = -1;
        while (path.length > 0 && s.sndUna <= iw * MSS) {
          const seg = path.shift() as Tx;
          now += MS;
          if (!seg.retx && lostOnce.has(seg.seq)) continue;
          received.add(seg.seq);
          let ack = s.sndUna;
          while (received.has(ack)) ack += MSS;
          const before = {
            una: s.sndUna,
            inRecovery: s.tcb.inRecovery,
            sent: h.sent.length,
            records: h.records.length,
          };
          s.onAck(ack, now);
          const retx = h.sent.slice(before.sent).filter((t) => t.retx);
          const events = h.records.slice(before.records).map((r) => r.event);
          if (events.includes('fast_retransmit')) recoverAtEntry = s.recover;
          if (before.inRecovery && ack > before.una) {
            if (ack - 1 >= recoverAtEntry) {
              // Full ACK: recovery ends here, nothing resent (step 3, full acknowledgment).
              expect(events).toEqual(['recovery_exit']);
              expect(retx).toEqual([]);
            } else {
              // Partial ACK: exactly one retransmission, of the first unacknowledged segment (step 3).
              expect(s.tcb.inRecovery).toBe(true);
              expect(retx.map((t) => t.seq)).toEqual([ack]);
            }
          }
          pump();
        }
        expect(s.stats.fastRetransmits).toBe(1);
        expect(s.stats.timeouts).toBe(0);
        expect(s.tcb.inRecovery).toBe(false);
        expect(h.records.filter((r) => r.event === 'recovery_exit')).toHaveLength(1);
        // No segment the receiver already held was resent: one retransmission per lost segment.
        expect(s.stats.retransmits).toBe(lost.length);
      }),
      fcParams({ numRuns: 300 }),
    );
  });
});
