/**
 * CUBIC (RFC 9438), the default congestion control of Linux, Windows and
 * Apple stacks. Windows below are in segments (SMSS), times in seconds.
 *
 * Theory of operation. After a loss the window follows a cubic function of
 * the time t since the congestion-avoidance epoch began (RFC 9438 section 4.2,
 * figure 1): W_cubic(t) = C (t - K)^3 + W_max, K = cbrt((W_max - cwnd_epoch) / C)
 * (figure 2), so it climbs fast from cwnd_epoch, flattens as it nears W_max
 * (the window at the last loss, concave region, section 4.4) and probes
 * beyond it ever faster (convex region, section 4.5). With cwnd_epoch =
 * beta * W_max that is K = cbrt(W_max (1 - beta) / C).
 *
 * - Slow start while cwnd < ssthresh: Reno's (RFC 5681 eq. 2; RFC 9438
 *   section 4.10, no HyStart++).
 * - Congestion avoidance, on each ACK of new data (section 4.2): the epoch
 *   starts at the first such ACK after a loss (t_epoch = now, cwnd_epoch =
 *   cwnd, W_est = cwnd_epoch). The Reno-friendly estimate (section 4.3,
 *   figure 4) grows W_est += alpha * acked / cwnd, alpha = 3 (1 - beta) /
 *   (1 + beta), and alpha becomes 1 once W_est reaches cwnd_prior (the window
 *   when ssthresh was last set). If W_cubic(t) < W_est the flow is in the
 *   Reno-friendly region and cwnd = W_est; otherwise target =
 *   W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd] and cwnd grows by
 *   (target - cwnd) / cwnd per segment acknowledged (RTT: the smoothed RTT,
 *   kept here from the sender's Karn-valid samples with RFC 6298's gain 1/8).
 *   Fractions of a byte are carried to the next ACK, so cwnd stays whole bytes.
 * - On a loss (section 4.6; section 4.7 fast convergence): cwnd_prior = cwnd;
 *   W_max = cwnd (1 + beta) / 2 if cwnd < the previous W_max (the flow is
 *   giving bandwidth up), else cwnd; ssthresh = max(cwnd * beta, 2 SMSS);
 *   the epoch ends. RFC 9438 writes flight_size * beta and notes that
 *   implementations use cwnd; desim uses cwnd, as Linux's tcp_cubic does.
 * - After a timeout (section 4.8) the first congestion-avoidance epoch
 *   starts with K = 0 and W_max = W_est = cwnd_epoch. The same holds when no
 *   loss has happened yet (a flow that reaches an initial ssthresh).
 *
 * Loss recovery is NewReno's (RFC 6582) without SACK and RFC 6675's with
 * `sack: true` (as Linux does with SACK, its default): the sender's rules,
 * with cwnd = ssthresh when recovery ends, which is where the epoch starts.
 *
 * Unlike Reno, CUBIC keeps state per connection: {@link createCubic} makes one
 * instance per sender (`congestionOps('cubic')` returns a new one each call).
 */
import type { TcpControlBlock } from '../control-block.js';
import type { CongestionOps } from './ops.js';

/** C (segments / s^3), the value RFC 9438 recommends. */
export const CUBIC_C = 0.4;
/** Multiplicative decrease factor, RFC 9438 section 4.6. */
export const CUBIC_BETA = 0.7;

/** Options of {@link createCubic} (RFC 9438's defaults). */
export interface CubicOptions {
  /** C (segments / s^3). Default 0.4. */
  readonly c?: number;
  /** beta_cubic. Default 0.7. */
  readonly beta?: number;
  /** Fast convergence (section 4.7). Default true. */
  readonly fastConvergence?: boolean;
}

/** The state of one CUBIC connection, as a test or a trace reads it. */
export interface CubicState {
  /** W_max (segments); 0 before the first loss. */
  readonly wMaxSegs: number;
  /** K (s) of the current epoch. */
  readonly kS: number;
  /** Start of the current epoch (ns), or -1 outside one. */
  readonly epochStartNs: number;
  /** cwnd at the start of the epoch (segments). */
  readonly cwndEpochSegs: number;
  /** The Reno-friendly estimate W_est (segments). */
  readonly wEstSegs: number;
  /** The smoothed RTT CUBIC uses (ns), 0 before a sample. */
  readonly srttNs: number;
}

/** A CUBIC instance: the congestion-control interface plus its state. */
export interface Cubic extends CongestionOps {
  /** The current state (a snapshot). */
  state(): CubicState;
}

/** W_cubic(t) = C (t - K)^3 + W_max (RFC 9438 figure 1), in segments for t in seconds. */
export function cubicWindow(tS: number, kS: number, wMaxSegs: number, c = CUBIC_C): number {
  const d = tS - kS;
  return c * d * d * d + wMaxSegs;
}

/** K = cbrt((W_max - cwnd_epoch) / C) (RFC 9438 figure 2), in seconds; 0 when cwnd_epoch >= W_max. */
export function cubicK(wMaxSegs: number, cwndEpochSegs: number, c = CUBIC_C): number {
  return wMaxSegs > cwndEpochSegs ? Math.cbrt((wMaxSegs - cwndEpochSegs) / c) : 0;
}

/**
 * The average window of CUBIC in its cubic region under periodic loss (RFC 8312 section 5.1, kept in
 * RFC 9438 section 5.1): (C (3 + beta) / (4 (1 - beta)))^(1/4) *
 * RTT^(3/4) / p^(3/4), in segments (per RTT), for RTT in seconds and loss-event rate p.
 */
export function cubicAverageWindow(rttS: number, p: number, c = CUBIC_C, beta = CUBIC_BETA): number {
  return ((c * (3 + beta)) / (4 * (1 - beta))) ** 0.25 * (rttS / p) ** 0.75;
}

/**
 * The average window of an AIMD flow with CUBIC's Reno-friendly parameters (alpha = 3 (1 - beta) /
 * (1 + beta), beta) under periodic loss: sqrt(alpha (1 + beta) / (2 (1 - beta) p)) = sqrt(3 / (2 p))
 * segments, Reno's (RFC 9438 section 4.3). CUBIC is in its cubic region when
 * {@link cubicAverageWindow} exceeds it.
 */
export function cubicRenoFriendlyWindow(p: number, beta = CUBIC_BETA): number {
  const alpha = (3 * (1 - beta)) / (1 + beta);
  return Math.sqrt((alpha * (1 + beta)) / (2 * (1 - beta) * p));
}

/** A new CUBIC instance for one connection (RFC 9438; see the file's theory of operation). */
export function createCubic(options: CubicOptions = {}): Cubic {
  const c = options.c ?? CUBIC_C;
  const beta = options.beta ?? CUBIC_BETA;
  const fastConvergence = options.fastConvergence ?? true;
  const alphaAimd = (3 * (1 - beta)) / (1 + beta);
  let wMax = 0;
  let k = 0;
  let epochStart = -1;
  let cwndEpoch = 0;
  let wEst = 0;
  let alpha = alphaAimd;
  let cwndPrior = 0;
  let afterTimeout = false;
  let srtt = 0;
  let carryBytes = 0;

  return {
    name: 'cubic',
    recovery: 'newreno',
    ssThresh(tcb: TcpControlBlock): number {
      const mss = tcb.segmentSize;
      const cwnd = tcb.cwnd / mss;
      // Section 4.7: a window below the last W_max means another flow took bandwidth; release some.
      wMax = fastConvergence && cwnd < wMax ? (cwnd * (1 + beta)) / 2 : cwnd;
      cwndPrior = cwnd;
      epochStart = -1;
      carryBytes = 0;
      return Math.max(Math.floor(tcb.cwnd * beta), 2 * mss); // section 4.6
    },
    increaseWindow(tcb: TcpControlBlock, bytesAcked: number, nowNs: number): void {
      const mss = tcb.segmentSize;
      if (tcb.cwnd < tcb.ssthresh) {
        tcb.cwnd += Math.min(bytesAcked, mss); // slow start, RFC 5681 eq. 2
        return;
      }
      const cwnd = tcb.cwnd / mss;
      if (epochStart < 0) {
        epochStart = nowNs;
        cwndEpoch = cwnd;
        wEst = cwnd;
        alpha = alphaAimd;
        carryBytes = 0;
        if (afterTimeout || wMax <= cwnd) {
          // Section 4.8 (and no loss yet): K = 0, W_max = the window the epoch starts with.
          wMax = cwnd;
          if (afterTimeout) cwndPrior = cwnd;
          afterTimeout = false;
        }
        k = cubicK(wMax, cwndEpoch, c);
      }
      const acked = bytesAcked / mss;
      wEst += (alpha * acked) / cwnd; // figure 4
      if (wEst >= cwndPrior) alpha = 1;
      const tS = (nowNs - epochStart) / 1e9;
      if (cubicWindow(tS, k, wMax, c) < wEst) {
        // Reno-friendly region (section 4.3): cwnd = W_est (never below the current window).
        const est = Math.floor(wEst * mss);
        if (est > tcb.cwnd) tcb.cwnd = est;
        carryBytes = 0;
        return;
      }
      let target = cubicWindow(tS + srtt / 1e9, k, wMax, c);
      if (target < cwnd) target = cwnd;
      else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
      carryBytes += ((target - cwnd) / cwnd) * acked * mss; // sections 4.4 and 4.5
      const whole = Math.floor(carryBytes);
      tcb.cwnd += whole;
      carryBytes -= whole;
    },
    pktsAcked(_tcb: TcpControlBlock, _segmentsAcked: number, rttNs: number): void {
      if (rttNs < 0) return;
      srtt = srtt === 0 ? rttNs : srtt + (rttNs - srtt) / 8; // RFC 6298 2.3
    },
    timeout(): void {
      afterTimeout = true;
      epochStart = -1;
      carryBytes = 0;
    },
    state(): CubicState {
      return { wMaxSegs: wMax, kS: k, epochStartNs: epochStart, cwndEpochSegs: cwndEpoch, wEstSegs: wEst, srttNs: srtt };
    },
  };
}
