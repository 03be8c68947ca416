/**
 * Retransmission-timeout estimator, RFC 6298.
 *
 * Theory of operation. Before the first RTT sample RTO is the initial value
 * (1 s, section 2.1). The first sample R sets SRTT = R, RTTVAR = R/2 (2.2);
 * each later sample R' updates RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| and then
 * SRTT = 7/8 SRTT + 1/8 R' (2.3). RTO = SRTT + max(G, 4 RTTVAR), clamped to
 * [minRto, maxRto] (2.4, 2.5). When the timer expires the RTO doubles
 * ("back off the timer", 5.5), up to maxRto; the back-off is kept until a new
 * valid sample arrives, which recomputes RTO from SRTT and RTTVAR. Karn's rule
 * (samples never come from retransmitted segments, section 3) is the
 * sender's business: it only calls {@link RttEstimator.sample} with valid samples.
 *
 * All times are nanoseconds.
 */
import { NS_PER_MS, NS_PER_S, type Time } from '../sans-io.js';

/** Options of the {@link RttEstimator}. */
export interface RttEstimatorOptions {
  /** Lower bound of the RTO (ns). Default 1 s (RFC 6298 2.4). */
  readonly minRtoNs?: Time;
  /** Upper bound of the RTO (ns). Default 60 s (RFC 6298 2.5). */
  readonly maxRtoNs?: Time;
  /** RTO before any sample (ns). Default 1 s (RFC 6298 2.1). */
  readonly initialRtoNs?: Time;
  /** Clock granularity G (ns). Default 1 ms. */
  readonly granularityNs?: Time;
}

/** SRTT / RTTVAR / RTO per RFC 6298. */
export class RttEstimator {
  /** Smoothed RTT (ns); 0 before the first sample. */
  srttNs = 0;
  /** RTT variation (ns); 0 before the first sample. */
  rttvarNs = 0;
  /** Number of samples taken. */
  samples = 0;
  /** The current RTO including back-off (ns, integer). */
  rtoNs: Time;
  /** The RTO computed from SRTT and RTTVAR, before back-off (ns, integer). */
  baseRtoNs: Time;
  /** How many times the timer was backed off since the last sample. */
  backoffs = 0;

  readonly minRtoNs: Time;
  readonly maxRtoNs: Time;
  private readonly granularityNs: Time;

  constructor(options: RttEstimatorOptions = {}) {
    this.minRtoNs = options.minRtoNs ?? NS_PER_S;
    this.maxRtoNs = options.maxRtoNs ?? 60 * NS_PER_S;
    this.granularityNs = options.granularityNs ?? NS_PER_MS;
    const initial = Math.min(Math.max(options.initialRtoNs ?? NS_PER_S, this.minRtoNs), this.maxRtoNs);
    this.rtoNs = initial;
    this.baseRtoNs = initial;
  }

  /** Takes a valid RTT sample (ns, > 0) and recomputes the RTO, clearing any back-off. */
  sample(rttNs: Time): void {
    if (this.samples === 0) {
      this.srttNs = rttNs;
      this.rttvarNs = rttNs / 2;
    } else {
      const err = this.srttNs - rttNs;
      this.rttvarNs = 0.75 * this.rttvarNs + 0.25 * (err < 0 ? -err : err);
      this.srttNs = 0.875 * this.srttNs + 0.125 * rttNs;
    }
    this.samples++;
    const rto = this.srttNs + Math.max(this.granularityNs, 4 * this.rttvarNs);
    this.baseRtoNs = Math.round(Math.min(Math.max(rto, this.minRtoNs), this.maxRtoNs));
    this.rtoNs = this.baseRtoNs;
    this.backoffs = 0;
  }

  /** Doubles the RTO (RFC 6298 5.5), up to maxRto. */
  backoff(): void {
    this.rtoNs = Math.min(this.rtoNs * 2, this.maxRtoNs);
    this.backoffs++;
  }
}
