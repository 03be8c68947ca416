/** Packet-level TCP (Tahoe, Reno, NewReno, CUBIC, SACK recovery): the public exports of `src/protocols/tcp`. */
export {
  congestionState,
  createControlBlock,
  rfc5681InitialWindow,
  rfc6928InitialWindow,
  type CongestionState,
  type TcpControlBlock,
} from './control-block.js';
export {
  CUBIC_BETA,
  CUBIC_C,
  VARIANTS,
  congestionOps,
  createCubic,
  cubicAverageWindow,
  cubicK,
  cubicRenoFriendlyWindow,
  cubicWindow,
  newreno,
  reno,
  renoFamily,
  renoIncreaseWindow,
  renoSsThresh,
  tahoe,
  type CongestionOps,
  type Cubic,
  type CubicOptions,
  type CubicState,
  type LossRecovery,
  type Variant,
} from './congestion/index.js';
export { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';
export {
  TcpSender,
  type SenderConfig,
  type SenderStats,
  type SenderTimerNames,
  type PrrRecord,
  type SackOptions,
  type TcpEvent,
  type TcpTraceRecord,
  type TcpTxRecord,
  type TraceGate,
  type TxKind,
} from './sender.js';
export { TcpReceiver, type ReceiverConfig } from './receiver.js';
export { TcpStack } from './stack.js';
export { ActionBuffer } from './action-buffer.js';
export type { TcpPacket } from './packet.js';
export { jainIndex, mathisBps, padhyeBps, type PadhyeParams } from './models.js';
