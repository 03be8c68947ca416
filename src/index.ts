/**
 * desim's public API: the one export list. Everything a user may import from
 * `desim` is named here; anything not listed is internal.
 */
export * from './kernel/index.js';
export * from './protocols/net/index.js';
export type { Action, ProtocolNode } from './protocols/sans-io.js';
export { Outbox } from './protocols/sans-io.js';
export { SimHost, type NodeFactory, type NodeTraceEvent } from './protocols/sim-host.js';
