/** The protocol drivers desim ships, by the key they take under `protocol:` in scenario files. */
import type { ProtocolDriver } from '../driver.js';

export const BUILTIN_DRIVERS: readonly ProtocolDriver[] = [];
