/**
 * SWIM group membership and failure detection (Das, Gupta and Motivala, DSN 2002), with Lifeguard
 * (Dadgar et al. 2018) as an option: a sans-I/O node, its configuration and its messages.
 */
export { SwimNode } from './node.js';
export type { ChangeVia, MemberInfo, MemberState, SwimCall, SwimCounters, SwimNodeOptions, SwimReply } from './node.js';
export { DEFAULT_SWIM_CONFIG, dynamicSuspicionTimeoutNs, pushPullIntervalNs, retransmitLimit, suspicionTimeoutNs } from './config.js';
export type { SwimConfig, SwimPhase } from './config.js';
export { HEADER_BYTES, UPDATE_BYTES, messageBytes, type SwimMessage, type Update, type UpdateKind } from './wire.js';
