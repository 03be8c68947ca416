import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadState, PersistentStore, PersistError, saveState } from '../../src/transport/persist.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'desim-persist-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state files', () => {
  it('round-trips a state and leaves no temp file behind', async () => {
    const file = path.join(dir, 'a.json');
    expect(await loadState(file)).toBeUndefined();
    const state = { entries: [['k', 'v', 12, 0, false]], lastTs: 12 };
    await saveState(file, state);
    expect(await loadState(file)).toEqual(state);
    await saveState(file, { entries: [] });
    expect(await loadState(file)).toEqual({ entries: [] });
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('reports corrupt, foreign and tampered files clearly and never overwrites them', async () => {
    const file = path.join(dir, 'a.json');
    await saveState(file, { x: 1 });
    const good = await readFile(file, 'utf8');
    const cases: [string, RegExp][] = [
      [good.slice(0, good.length - 10), /not valid JSON/],
      ['{"hello": 1}', /not a desim state file/],
      [good.replace('"version":1', '"version":99'), /version 99/],
      [good.replace('"x":1', '"x":2'), /checksum mismatch/],
    ];
    for (const [text, message] of cases) {
      await writeFile(file, text);
      await expect(loadState(file)).rejects.toThrow(PersistError);
      await expect(loadState(file)).rejects.toThrow(message);
      expect(await readFile(file, 'utf8')).toBe(text);
    }
  });

  it('PersistentStore saves only changes and flushes the last state', async () => {
    const file = path.join(dir, 'b.json');
    let state = { n: 1 };
    const store = new PersistentStore(file, () => state);
    await store.save();
    expect(await loadState(file)).toEqual({ n: 1 });
    await writeFile(file, 'sentinel');
    await store.save(); // unchanged state: no write
    expect(await readFile(file, 'utf8')).toBe('sentinel');
    state = { n: 2 };
    await store.flush();
    expect(await loadState(file)).toEqual({ n: 2 });
  });
});
