/**
 * The gossip-replicated key-value store: sans-I/O node, wire format, and presets
 * (its simulator metrics live in src/sim).
 */
export { GossipNode, isValidEntry } from './node.js';
export type { DropReason, GossipNodeOptions, GossipNodeSnapshot, GossipObserver, SendCounters, Via } from './node.js';
export { DEFAULT_CONFIG, MIN_MTU_BYTES } from './config.js';
export type { AntiEntropyMode, Feedback, GossipConfig, Phase, RoundSemantics, RumorMode, StopRule, Timing } from './config.js';
export { PRESETS, PRESET_NAMES, resolveConfig, type PresetName } from './presets.js';
export { SkewedClock, type ClockKind, type ClockParams } from './clock.js';
export { Store, MergeResult, compareVersion, newer, type Entry, type Value } from './store.js';
export { RumorList, type HotRumor } from './rumor.js';
export {
  WireError,
  decode,
  encode,
  encodedSize,
  type GossipMessage,
  type KvCall,
  type KvReply,
  type VersionRef,
  type WireErrorReason,
} from './wire.js';
