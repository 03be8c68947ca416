/**
 * Active queue management at a link's queue: RED (Floyd and Jacobson 1993,
 * with "gentle") and CoDel (RFC 8289), as plain state and pure decisions the
 * network calls; they know nothing of packets beyond their count, bytes and
 * sojourn time, so a test can drive them with a fixed sequence.
 *
 * Theory of operation.
 *
 * RED decides on arrival. It keeps `avg`, an EWMA of the queue length in
 * packets with weight w_q: avg = (1 - w_q) avg + w_q q on each arrival to a
 * non-empty queue; after the queue has been empty and the link idle for a
 * time t, avg = (1 - w_q)^m avg with m = t / s, s the transmission time of
 * a packet of `meanPacketBytes` (the paper's idle-time rule). Then
 *
 *   avg < min_th:              accept, count = -1;
 *   min_th <= avg < max_th:    count += 1, p_b = max_p (avg - min_th) / (max_th - min_th);
 *   gentle, max_th <= avg < 2 max_th:
 *                              count += 1, p_b = max_p + (1 - max_p) (avg - max_th) / max_th;
 *   otherwise:                 drop (forced), count = 0;
 *
 * and in the two probabilistic regions the packet is dropped (or marked) with
 * p_a = p_b / (1 - count p_b) (1 when count p_b >= 1), count = 0 after a drop:
 * the count-based spacing that makes inter-drop gaps uniform rather than
 * geometric. The uniform draw comes from the link's own named stream.
 *
 * CoDel decides on departure (RFC 8289 section 5, the pseudocode of its
 * appendix, with Linux's ECN handling): a packet whose sojourn time is below
 * `target`, or that leaves no more than one maximum-size packet behind, resets
 * `first_above_time`; a sojourn at or above target for a whole `interval`
 * enters the dropping state, which drops one packet and schedules the next
 * drop at drop_next = t + interval / sqrt(count), count growing by one per
 * drop, until a packet's sojourn falls below target. On re-entry soon after
 * leaving (now - drop_next < 16 interval) count resumes at count - lastcount
 * when that exceeds 1 (RFC 8289 section 5.4), else 1. With ECN a packet that
 * is ECN-capable is marked CE instead of dropped and is sent (so one mark per
 * drop time, as Linux's codel_dequeue).
 */

/** RED parameters (Floyd and Jacobson 1993; defaults of ns-3's RedQueueDisc). */
export interface RedSpec {
  readonly kind: 'red';
  /** min_th (packets). */
  readonly minThPackets: number;
  /** max_th (packets), above min_th. */
  readonly maxThPackets: number;
  /** max_p: drop probability at avg = max_th, in (0, 1]. */
  readonly maxP: number;
  /** w_q: EWMA weight, in (0, 1]. */
  readonly wq: number;
  /** Ramp the probability from max_p to 1 between max_th and 2 max_th (instead of dropping every packet above max_th). */
  readonly gentle: boolean;
  /** Packet size for the idle-time rule (bytes): s = meanPacketBytes * 8 / bandwidth. */
  readonly meanPacketBytes: number;
  /** Mark ECN-capable packets (RFC 3168) instead of dropping them. */
  readonly ecn: boolean;
}

/** CoDel parameters (RFC 8289 section 4.2 and 4.3). */
export interface CodelSpec {
  readonly kind: 'codel';
  /** Acceptable standing sojourn time (ns). RFC 8289: 5 ms. */
  readonly targetNs: number;
  /** Sliding window of the minimum sojourn (ns). RFC 8289: 100 ms. */
  readonly intervalNs: number;
  /** Mark ECN-capable packets (RFC 3168) instead of dropping them. */
  readonly ecn: boolean;
}

/** Drop-tail through the managed queue (the same drops as a plain link; the queue's sojourn times are measured). */
export interface DropTailSpec {
  readonly kind: 'droptail';
}

/** A link's queue discipline. A link without one is drop-tail on the network's fast path. */
export type AqmSpec = RedSpec | CodelSpec | DropTailSpec;

/** RED's defaults (ns-3 RedQueueDisc: MinTh 5, MaxTh 15, QW 0.002, LInterm 50 so max_p 0.02, Gentle, MeanPktSize 500). */
export const RED_DEFAULTS: Omit<RedSpec, 'kind'> = Object.freeze({
  minThPackets: 5,
  maxThPackets: 15,
  maxP: 0.02,
  wq: 0.002,
  gentle: true,
  meanPacketBytes: 500,
  ecn: false,
});

/** CoDel's defaults (RFC 8289 section 4.2 and 4.3: target 5 ms, interval 100 ms). */
export const CODEL_DEFAULTS: Omit<CodelSpec, 'kind'> = Object.freeze({ targetNs: 5_000_000, intervalNs: 100_000_000, ecn: false });

/** What a discipline does with a packet. */
export const Verdict = Object.freeze({ Pass: 0, Drop: 1, Mark: 2 } as const);
/** One of {@link Verdict}'s values. */
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** RED's variables. */
export interface RedState {
  /** EWMA of the queue length (packets). */
  avg: number;
  /** Packets since the last drop while avg was in a probabilistic region, -1 outside them. */
  count: number;
}

/** A fresh RED state (avg 0, count -1). */
export function newRedState(): RedState {
  return { avg: 0, count: -1 };
}

/**
 * RED's drop probability p_b for an average queue `avg` (before the count-based spacing): 0 below
 * min_th, linear to max_p at max_th, then (gentle) linear to 1 at 2 max_th, and 1 beyond.
 */
export function redBaseProbability(spec: RedSpec, avg: number): number {
  if (avg < spec.minThPackets) return 0;
  if (avg < spec.maxThPackets) return (spec.maxP * (avg - spec.minThPackets)) / (spec.maxThPackets - spec.minThPackets);
  if (spec.gentle && avg < 2 * spec.maxThPackets) return spec.maxP + ((1 - spec.maxP) * (avg - spec.maxThPackets)) / spec.maxThPackets;
  return 1;
}

/**
 * One arrival at a RED queue holding `queuePackets` packets (waiting, not in service). `idleNs` is
 * how long the queue has been empty and the link idle (0 when it is not idle); `packetTimeNs` the
 * transmission time of a packet of `meanPacketBytes`; `uniform` draws in [0, 1) (called only in a
 * probabilistic region). Updates `st` and returns Drop (or Mark, which the caller turns into a
 * drop for a packet that is not ECN-capable) or Pass.
 */
export function redArrive(spec: RedSpec, st: RedState, queuePackets: number, idleNs: number, packetTimeNs: number, uniform: () => number): Verdict {
  if (queuePackets > 0 || idleNs <= 0) st.avg += spec.wq * (queuePackets - st.avg);
  else st.avg *= Math.pow(1 - spec.wq, idleNs / packetTimeNs);
  const avg = st.avg;
  if (avg < spec.minThPackets) {
    st.count = -1;
    return Verdict.Pass;
  }
  const hard = spec.gentle ? 2 * spec.maxThPackets : spec.maxThPackets;
  if (avg >= hard) {
    st.count = 0;
    return spec.ecn ? Verdict.Mark : Verdict.Drop;
  }
  st.count++;
  const pb = redBaseProbability(spec, avg);
  const denom = 1 - st.count * pb;
  const pa = denom <= 0 ? 1 : pb / denom;
  if (pa >= 1 || uniform() < pa) {
    st.count = 0;
    return spec.ecn ? Verdict.Mark : Verdict.Drop;
  }
  return Verdict.Pass;
}

/** CoDel's variables (RFC 8289 section 5). Times in ns; `firstAboveNs` 0 means "not above target". */
export interface CodelState {
  firstAboveNs: number;
  dropNextNs: number;
  count: number;
  lastCount: number;
  dropping: boolean;
  /** Largest packet seen (bytes): the "maxpacket" of the backlog test. */
  maxPacketBytes: number;
}

/** A fresh CoDel state. */
export function newCodelState(): CodelState {
  return { firstAboveNs: 0, dropNextNs: 0, count: 0, lastCount: 0, dropping: false, maxPacketBytes: 0 };
}

/** RFC 8289 control law: the next drop time, t + interval / sqrt(count). */
export function codelControlLaw(t: number, intervalNs: number, count: number): number {
  return t + Math.round(intervalNs / Math.sqrt(count));
}

/** The queue a CoDel dequeue works on: the head packet and what it leaves behind. */
export interface CodelQueue {
  /** Removes the head packet and returns its sojourn time (ns), or -1 when the queue is empty. */
  pop(now: number): number;
  /** Bytes left in the queue (after the pop). */
  readonly backlogBytes: number;
  /** Size of the packet last popped (bytes). */
  readonly lastBytes: number;
  /** Drops the packet last popped. */
  drop(): void;
  /** Marks the packet last popped CE; false when it is not ECN-capable (then the caller drops it). */
  mark(): boolean;
}

/** RFC 8289 dodequeue: pops the head and says whether it may be dropped; -1 sojourn for an empty queue. */
function codelDoDequeue(spec: CodelSpec, st: CodelState, q: CodelQueue, now: number): { sojournNs: number; okToDrop: boolean } {
  const sojournNs = q.pop(now);
  if (sojournNs < 0) {
    st.firstAboveNs = 0;
    return { sojournNs, okToDrop: false };
  }
  if (q.lastBytes > st.maxPacketBytes) st.maxPacketBytes = q.lastBytes;
  let okToDrop = false;
  if (sojournNs < spec.targetNs || q.backlogBytes <= st.maxPacketBytes) {
    st.firstAboveNs = 0; // went below target: stay below for at least an interval
  } else if (st.firstAboveNs === 0) {
    st.firstAboveNs = now + spec.intervalNs; // just went above target: start the interval
  } else if (now >= st.firstAboveNs) {
    okToDrop = true;
  }
  return { sojournNs, okToDrop };
}

/**
 * RFC 8289 dequeue at time `now`: pops packets from `q` (dropping or marking as the state says)
 * until one is to be sent, and returns true when one is (the packet last popped), false when the
 * queue ran empty.
 */
export function codelDequeue(spec: CodelSpec, st: CodelState, q: CodelQueue, now: number): boolean {
  let r = codelDoDequeue(spec, st, q, now);
  if (r.sojournNs < 0) {
    st.dropping = false;
    return false;
  }
  if (st.dropping) {
    if (!r.okToDrop) {
      st.dropping = false; // sojourn time below target: leave the dropping state
    } else {
      while (st.dropping && now >= st.dropNextNs) {
        st.count++;
        if (spec.ecn && q.mark()) {
          st.dropNextNs = codelControlLaw(st.dropNextNs, spec.intervalNs, st.count);
          return true;
        }
        q.drop();
        r = codelDoDequeue(spec, st, q, now);
        if (r.sojournNs < 0) {
          st.dropping = false;
          return false;
        }
        if (!r.okToDrop) st.dropping = false;
        else st.dropNextNs = codelControlLaw(st.dropNextNs, spec.intervalNs, st.count);
      }
    }
  } else if (r.okToDrop) {
    // Enter the dropping state: drop (or mark) this packet.
    let sent = true;
    if (!(spec.ecn && q.mark())) {
      q.drop();
      r = codelDoDequeue(spec, st, q, now);
      sent = r.sojournNs >= 0;
    }
    st.dropping = true;
    // RFC 8289 section 5.4: re-entering soon after leaving, resume near the last drop rate.
    const delta = st.count - st.lastCount;
    st.count = delta > 1 && now - st.dropNextNs < 16 * spec.intervalNs ? delta : 1;
    st.lastCount = st.count;
    st.dropNextNs = codelControlLaw(now, spec.intervalNs, st.count);
    if (!sent) st.dropping = false;
    return sent;
  }
  return true;
}
