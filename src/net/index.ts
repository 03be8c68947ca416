export * from './link.js';
export * from './network.js';
export * from './faults.js';
export type { AqmSpec, CodelSpec, DropTailSpec, RedSpec } from './aqm.js';
