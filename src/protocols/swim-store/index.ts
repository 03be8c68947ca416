/**
 * The gossip key-value store on SWIM's membership: one sans-I/O node running a SWIM member and a store
 * replica, the store's peers being the members SWIM holds alive or suspect.
 */
export { SWIM_TIMER_PREFIX, SwimStoreNode, isSwimMessage } from './node.js';
export type { SwimStoreCall, SwimStoreMessage, SwimStoreNodeOptions, SwimStoreReply, SwimStoreSnapshot } from './node.js';
