import { describe, expect, it } from 'vitest';
import { interruptedMessage } from '../../src/cli/signals.js';

describe('interruptedMessage', () => {
  it('while working: what was removed, and the folders already complete', () => {
    expect(interruptedMessage({ busy: true, kept: [] })).toBe('desim: interrupted; unfinished output was removed');
    expect(interruptedMessage({ busy: true, kept: ['r/gossip-original/'] })).toBe(
      'desim: interrupted; unfinished output was removed; r/gossip-original/ is complete and kept',
    );
  });

  it('after the work: nothing was removed, and what is complete is named', () => {
    expect(interruptedMessage({ busy: false, kept: ['results/tcp-original/'] })).toBe(
      'desim: interrupted after the work was done; results/tcp-original/ is complete and kept',
    );
    expect(interruptedMessage({ busy: false, kept: ['r/a/', 'r/b/'] })).toBe(
      'desim: interrupted after the work was done; r/a/ r/b/ are complete and kept',
    );
    expect(interruptedMessage({ busy: false, kept: [] })).toBe('desim: interrupted after the work was done');
  });
});
