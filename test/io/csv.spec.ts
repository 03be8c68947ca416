import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plainNumber, safeColumnName, valueCell, valueType } from '../../src/io/csv-format.js';
import { CsvWriter, fmt, formatFloat, toCsv } from '../../src/io/csv.js';
import { fcParams } from '../fc.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'desim-csv-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('formatFloat and fmt', () => {
  it('renders floats with at most 9 significant digits, integers as they are', () => {
    expect(formatFloat(0.1 + 0.2)).toBe('0.3');
    expect(formatFloat(1 / 3)).toBe('0.333333333');
    expect(formatFloat(2 / 3, 3)).toBe('0.667');
    expect(formatFloat(123456789.123)).toBe('123456789');
    expect(formatFloat(12345678912345)).toBe('12345678912345'); // integers are never rounded
    expect(formatFloat(-0)).toBe('0');
    expect(formatFloat(0.000025)).toBe('0.000025');
    expect(formatFloat(-1.5)).toBe('-1.5');
    expect(formatFloat(NaN)).toBe('NaN');
    expect(formatFloat(-Infinity)).toBe('-Infinity');
    expect(fmt.float(Math.PI, 4)).toBe('3.142');
  });

  it('never writes an exponent: tiny and huge values are plain decimals', () => {
    expect(formatFloat(6.09143201e-8)).toBe('0.0000000609143201');
    expect(formatFloat(0.0000160896907)).toBe('0.0000160896907');
    expect(formatFloat(-1.23456789123e-10)).toBe('-0.000000000123456789');
    expect(formatFloat(1.5e21)).toBe('1500000000000000000000');
    expect(formatFloat(5e-324)).toBe('0.' + '0'.repeat(323) + '5');
    expect(plainNumber(1e21)).toBe('1000000000000000000000');
    expect(plainNumber(0.1 + 0.2)).toBe('0.30000000000000004'); // full round-trip precision
  });

  it('property: a formatted float has no exponent and reads back as the value rounded to 9 digits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = formatFloat(x);
        expect(s).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Number(s)).toBe(Number.isInteger(x) && Math.abs(x) < 1e21 ? x : Number(x.toPrecision(9)));
      }),
      fcParams(),
    );
  });

  it('writes a value of any type by the same rules: plain strings, full-precision plain numbers, 1/0, empty for none', () => {
    const cells = ['green', 1 / 3, 6.1e-8, true, false, null, undefined, NaN, { a: [1] }].map(valueCell);
    expect(cells).toEqual(['green', '0.3333333333333333', '0.000000061', true, false, '', '', '', '{"a":[1]}']);
    expect(toCsv(['a', 'b', 'c'], [[valueCell('green'), valueCell(true), valueCell(false)]])).toBe('a,b,c\ngreen,1,0\n');
  });

  it('names the JSON type of a value, which tells apart the values whose cells coincide', () => {
    const values = ['1', 1, true, '', null, undefined, 10n, [1], { a: 1 }];
    expect(values.map(valueType)).toEqual(['string', 'number', 'boolean', 'string', 'null', 'null', 'number', 'array', 'object']);
    // "1", 1 and true share a cell, "" and null too: the pair (cell, type) does not.
    const pairs = ['1', 1, true, '', null].map((v) => JSON.stringify([toCsv(['v'], [[valueCell(v)]]), valueType(v)]));
    expect(new Set(pairs).size).toBe(5);
  });

  it('safe column names keep letters, digits and underscores only', () => {
    expect(safeColumnName('protocol.tcp.flows[3].extra_rtt_ms')).toBe('protocol_tcp_flows_3_extra_rtt_ms');
    expect(safeColumnName('protocol.gossip.fanout')).toBe('protocol_gossip_fanout');
    expect(safeColumnName('network.links[0].loss')).toBe('network_links_0_loss');
  });

  it('renders nanoseconds as exact seconds', () => {
    expect(fmt.seconds(0)).toBe('0');
    expect(fmt.seconds(1)).toBe('0.000000001');
    expect(fmt.seconds(100_000_000)).toBe('0.1');
    expect(fmt.seconds(3_000_000_007)).toBe('3.000000007');
    expect(fmt.seconds(Number.MAX_SAFE_INTEGER)).toBe('9007199.254740991');
  });
});

describe('CsvWriter', () => {
  it('writes the header and rows, quoting only what needs quoting', () => {
    const path = join(dir, 'a', 'b', 'trace-x.csv'); // parent directories are created
    const w = new CsvWriter(path, ['time_s', 'name', 'value', 'ok', 'note']);
    w.write([fmt.seconds(1_500_000_000), 'plain', 0.1 + 0.2, true, null]);
    w.write(['2', 'has,comma', 1 / 3, false, undefined]);
    w.write(['3', 'has "quote"', NaN, false, 'multi\nline']);
    w.write(['4', ' padded ', Infinity, true, '']);
    w.close();
    expect(w.rows).toBe(4);
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(
      'time_s,name,value,ok,note\n' +
        '1.5,plain,0.3,1,\n' +
        '2,"has,comma",0.333333333,0,\n' +
        '3,"has ""quote""",,0,"multi\nline"\n' +
        '4, padded ,,1,\n',
    );
    // A CSV reader gets the strings back unchanged.
    const records = parse<Record<string, string>>(text, { columns: true });
    expect(records.map((r) => r['name'])).toEqual(['plain', 'has,comma', 'has "quote"', ' padded ']);
    expect(records[2]?.['note']).toBe('multi\nline');
  });

  it('matches toCsv for the same table', () => {
    const path = join(dir, 't.csv');
    const rows = [
      [1, 'a,b', 2.5],
      [2, 'c', 1 / 7],
    ];
    const w = new CsvWriter(path, ['n', 's', 'x_bps']);
    for (const r of rows) w.write(r);
    w.close();
    expect(readFileSync(path, 'utf8')).toBe(toCsv(['n', 's', 'x_bps'], rows));
  });

  it('streams more rows than one batch, in order', () => {
    const path = join(dir, 'big.csv');
    const w = new CsvWriter(path, ['i'], 7);
    for (let i = 0; i < 100; i++) w.write([i]);
    w.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(['i', ...Array.from({ length: 100 }, (_, i) => String(i))]);
  });

  it('writes nothing at the final path before close, then renames atomically', () => {
    const path = join(dir, 'atomic.csv');
    const w = new CsvWriter(path, ['a'], 1); // batch of one: rows reach the disk before close
    w.write([1]);
    w.write([2]);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toHaveLength(1); // the temporary file
    w.close();
    expect(readdirSync(dir)).toEqual(['atomic.csv']);
    expect(readFileSync(path, 'utf8')).toBe('a\n1\n2\n');
    w.close(); // idempotent
    expect(() => w.write([3])).toThrow(/after close/);
  });

  it('leaves nothing behind on abort', () => {
    const path = join(dir, 'aborted.csv');
    const w = new CsvWriter(path, ['a'], 1);
    w.write([1]);
    w.abort();
    expect(readdirSync(dir)).toEqual([]);
    w.close(); // no-op after abort: still nothing at the final path
    expect(existsSync(path)).toBe(false);
  });

  it('two writers of the same path do not share a temporary file: the last one closed wins, whole', () => {
    const path = join(dir, 'same.csv');
    const a = new CsvWriter(path, ['w'], 1);
    const b = new CsvWriter(path, ['w'], 1);
    a.write(['a1']);
    b.write(['b1']);
    a.write(['a2']);
    a.close();
    expect(readFileSync(path, 'utf8')).toBe('w\na1\na2\n');
    b.close();
    expect(readFileSync(path, 'utf8')).toBe('w\nb1\n');
    expect(readdirSync(dir)).toEqual(['same.csv']);
  });

  it('rejects a row whose length differs from the header', () => {
    const path = join(dir, 'bad.csv');
    const w = new CsvWriter(path, ['a', 'b']);
    expect(() => w.write([1])).toThrow(RangeError);
    expect(() => w.write([1, 2, 3])).toThrow(RangeError);
    w.write([1, 2]);
    w.close();
    expect(w.rows).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe('a,b\n1,2\n');
  });
});
