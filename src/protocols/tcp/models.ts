/**
 * Analytic models of Reno throughput, for validation.
 *
 * - Mathis, Semke, Mahdavi, Ott 1997, "The macroscopic behavior of the TCP
 *   congestion avoidance algorithm": BW = (MSS / RTT) * C / sqrt(p) with
 *   C = sqrt(3/2) (periodic losses, an ACK per segment; sqrt(3/4) with delayed ACKs).
 * - Padhye, Firoiu, Towsley, Kurose 1998, "Modeling TCP throughput: a simple
 *   model and its empirical validation", the full model (eq. 31/32 of the
 *   SIGCOMM paper): triple-duplicate-ACK periods plus timeouts with
 *   exponential back-off, b segments per ACK, receiver window Wmax.
 */

/**
 * Mathis et al. 1997 throughput (bits per second) for MSS (bytes), RTT (s) and loss-event rate p:
 * (MSS / RTT) * sqrt(3 / (2b)) / sqrt(p), with b segments per ACK (default 1: C = sqrt(3/2); with
 * delayed ACKs b = 2 and C = sqrt(3/4), as in the paper).
 */
export function mathisBps(mssBytes: number, rttS: number, p: number, b = 1): number {
  return ((mssBytes * 8) / rttS) * (Math.sqrt(3 / (2 * b)) / Math.sqrt(p));
}

/** Parameters of {@link padhyeBps}. */
export interface PadhyeParams {
  /** Segment payload (bytes). */
  readonly mssBytes: number;
  /** Round-trip time (s). */
  readonly rttS: number;
  /** Loss probability (per segment; the paper's p). */
  readonly p: number;
  /** The first timeout's duration T0 (s): the RTO the sender had. */
  readonly t0S: number;
  /** Segments acknowledged per ACK: 1 without, 2 with delayed ACKs. Default 1. */
  readonly b?: number;
  /** Receiver window (segments). Default Infinity. */
  readonly wmax?: number;
}

/** Padhye et al. 1998, the full model: throughput in bits per second. */
export function padhyeBps(params: PadhyeParams): number {
  const { mssBytes, rttS: rtt, p, t0S: t0 } = params;
  const b = params.b ?? 1;
  const wmax = params.wmax ?? Infinity;
  const q = 1 - p;
  const f = 1 + p + 2 * p ** 2 + 4 * p ** 3 + 8 * p ** 4 + 16 * p ** 5 + 32 * p ** 6;
  const a = (2 + b) / (3 * b);
  const ew = a + Math.sqrt((8 * q) / (3 * b * p) + a * a); // E[W], unconstrained
  const qhat = (w: number): number => {
    if (w <= 3) return 1;
    const num = (1 - q ** 3) * (1 + q ** 3 * (1 - q ** (w - 3)));
    return Math.min(1, num / (1 - q ** w));
  };
  let pktsPerS: number;
  if (ew < wmax) {
    const qh = qhat(ew);
    pktsPerS = (q / p + ew + qh / q) / (rtt * ((b / 2) * ew + 1) + (qh * t0 * f) / q);
  } else {
    const qh = qhat(wmax);
    pktsPerS = (q / p + wmax + qh / q) / (rtt * ((b / 8) * wmax + q / (p * wmax) + 2) + (qh * t0 * f) / q);
  }
  return pktsPerS * mssBytes * 8;
}

/** Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all equal, 1/n when one takes all. NaN for no flows. */
export function jainIndex(xs: readonly number[]): number {
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  if (xs.length === 0) return NaN;
  return s2 === 0 ? 1 : (s * s) / (xs.length * s2);
}
