import { describe, expect, it } from 'vitest';
import { TraceSource, collect } from '../../src/kernel/trace.js';

describe('TraceSource', () => {
  it('is inactive without consumers and delivers to every consumer in connection order', () => {
    const src = new TraceSource<number>('test.x');
    expect(src.active).toBe(false);
    const log: string[] = [];
    const offA = src.connect((r) => log.push(`a${r}`));
    const all = collect(src);
    expect(src.active).toBe(true);
    src.emit(1);
    offA();
    expect(src.active).toBe(true);
    src.emit(2);
    expect(log).toEqual(['a1']);
    expect(all).toEqual([1, 2]);
    expect(src.name).toBe('test.x');
  });

  it('becomes inactive when the last consumer disconnects, and a sink may disconnect while emitting', () => {
    const src = new TraceSource<string>('test.y');
    const seen: string[] = [];
    const off = src.connect((r) => {
      seen.push(`first:${r}`);
      off(); // disconnecting during emit must not skip the next sink of this emit
    });
    const off2 = src.connect((r) => seen.push(`second:${r}`));
    src.emit('x');
    src.emit('y');
    expect(seen).toEqual(['first:x', 'second:x', 'second:y']);
    off2();
    expect(src.active).toBe(false);
  });
});
