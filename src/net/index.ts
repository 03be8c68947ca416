export * from './link.js';
export * from './network.js';
export * from './faults.js';
