/**
 * The gossip key-value store on SWIM's membership: one sans-I/O node running a SWIM member and a store
 * replica, the store's peers being the members SWIM holds alive or suspect.
 */
export { PIGGYBACK_HEADER_BYTES, SWIM_TIMER_PREFIX, SwimStoreNode, isPiggybackMessage, isSwimMessage, piggybackBytes } from './node.js';
export type { PiggybackMessage, SwimStoreCall, SwimStoreMessage, SwimStoreNodeOptions, SwimStoreReply, SwimStoreSnapshot } from './node.js';
