/**
 * Hover help in editors: every key of the JSON Schema that `desim schema` prints has a description,
 * and every number's description gives its unit (or says it is unitless) and its range.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { scenarioJsonSchema } from '../../src/scenarios/schema.js';
import { describeJsonSchema, fieldDoc, FIELD_DOCS, isNumericNode, schemaKeys } from '../../src/scenarios/schema-docs.js';

type Json = Record<string, unknown>;

/** The keys a schema leaves undescribed, and the numeric keys whose description has no unit. */
function problems(schema: Json): string[] {
  const out: string[] = [];
  for (const { path, node } of schemaKeys(schema)) {
    const d = node['description'];
    if (typeof d !== 'string' || d.length === 0) out.push(`${path}: no description`);
    else if (isNumericNode(node) && !/Unit: [^.]+\./.test(d)) out.push(`${path}: a number without "Unit: ..." in its description`);
  }
  return out;
}

const schema = scenarioJsonSchema(BUILTIN_DRIVERS) as Json;

describe('JSON Schema descriptions', () => {
  it('every key has a description, and every number a unit', () => {
    expect(schemaKeys(schema).length).toBeGreaterThan(150);
    expect(problems(schema)).toEqual([]);
    expect(schema['description']).toMatch(/scenario/);
  });

  it('a number gives its range and default, read from the schema itself', () => {
    const link = (schema['properties'] as Json)['network'] as Json;
    const jitter = (((link['properties'] as Json)['link'] as Json)['properties'] as Json)['jitter_ms'] as Json;
    expect(jitter['description']).toBe(
      'Extra delay drawn uniformly in [0, jitter] per packet (reorders packets). Unit: ms. Range: a number in [0, 3600000].',
    );
    const tcp = ((schema['properties'] as Json)['protocol'] as Json)['properties'] as Json;
    const mss = ((tcp['tcp'] as Json)['properties'] as Json)['mss_bytes'] as Json;
    expect(mss['description']).toBe('Segment payload. Unit: bytes. Range: an integer in [1, 65535]. Default: 1460.');
  });

  it('the walk fails naming a key without a description and a number without a unit', () => {
    const made = describeJsonSchema({
      type: 'object',
      properties: {
        duration_s: { type: 'number', minimum: 0, maximum: 1 },
        mystery_key: { type: 'string' },
        nested: { type: 'object', properties: { flux: { anyOf: [{ type: 'integer' }, { type: 'string', const: 'none' }] } } },
      },
    }) as Json;
    // The table knows duration_s, not mystery_key, nested or nested.flux.
    expect(problems(made)).toEqual(['mystery_key: no description', 'nested: no description', 'nested.flux: no description']);
    // A number whose description forgets its unit is named too.
    ((made['properties'] as Json)['duration_s'] as Json)['description'] = 'Simulated time.';
    expect(problems(made)[0]).toBe('duration_s: a number without "Unit: ..." in its description');
  });

  it('an exact path wins over a suffix, and the longest suffix over a shorter one', () => {
    expect(fieldDoc('faults[].at_s')).toBe(FIELD_DOCS['faults[].at_s']);
    expect(fieldDoc('workload[]{op=put}.at_s')).toBe(FIELD_DOCS['workload[]*.at_s']);
    expect(fieldDoc('workload[].node')).toBe(FIELD_DOCS['workload[]*.node']);
    expect(fieldDoc('faults[].node')).toBeUndefined();
    expect(fieldDoc('network.links[].latency_ms{dist=normal}.sd_ms')).toBe(FIELD_DOCS['*.sd_ms']);
    expect(fieldDoc('protocol.tcp.bottleneck.loss')).toBe(FIELD_DOCS['protocol.tcp.bottleneck.loss']);
    expect(fieldDoc('no.such.key')).toBeUndefined();
  });

  it('a unit in the key name (_s, _ms, _bps, _bytes, _ppm, _packets) is the unit the description gives', () => {
    const SUFFIX: Record<string, string> = { _s: 's', _ms: 'ms', _bps: 'bit/s', _bytes: 'bytes', _ppm: 'ppm', _packets: 'packets' };
    const wrong = schemaKeys(schema).flatMap(({ path, node }) => {
      const suffix = /(_s|_ms|_bps|_bytes|_ppm|_packets)$/.exec(path)?.[1];
      if (suffix === undefined || !isNumericNode(node)) return [];
      const unit = /Unit: ([^.]+)\./.exec(String(node['description']))?.[1];
      return unit === SUFFIX[suffix] ? [] : [`${path}: ${String(unit)}`];
    });
    expect(wrong).toEqual([]);
  });

  it('every entry of the table is used by some key (no stale descriptions)', () => {
    const used = new Set(schemaKeys(schema).map(({ path }) => fieldDoc(path)));
    expect(
      Object.entries(FIELD_DOCS)
        .filter(([, d]) => !used.has(d))
        .map(([k]) => k),
    ).toEqual([]);
  });
});
