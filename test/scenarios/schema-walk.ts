/** Walks the JSON Schema of scenario files to its numeric fields (shared by the numeric fuzz test and the docs test). */

export type JsonNode = {
  type?: string | string[];
  properties?: Record<string, JsonNode>;
  required?: string[];
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  items?: JsonNode;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

/** A numeric field: its pattern (`faults[].set_latency_ms{dist=normal}.sd_ms`) and schema node. */
export interface NumericField {
  readonly pattern: string;
  readonly node: JsonNode;
}

const isNumeric = (n: JsonNode): boolean => {
  const t = n.type;
  return t === 'number' || t === 'integer' || (Array.isArray(t) && (t.includes('number') || t.includes('integer')));
};

/**
 * Every numeric leaf of the schema. Lists are `[]`; an object picked by a
 * required constant (`dist: normal`, `model: gilbert-elliott`, `op: put`) adds
 * `{key=value}`, and that key is added to `discriminators`.
 */
export function numericFields(node: JsonNode, discriminators: Set<string> = new Set(), prefix = '', out: NumericField[] = []): NumericField[] {
  if (isNumeric(node)) out.push({ pattern: prefix, node });
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) numericFields(alt, discriminators, prefix, out);
  if (node.items !== undefined && !Array.isArray(node.items)) numericFields(node.items, discriminators, `${prefix}[]`, out);
  if (node.properties !== undefined) {
    const tag = Object.entries(node.properties).find(([k, v]) => v.const !== undefined && (node.required ?? []).includes(k));
    if (tag !== undefined) discriminators.add(tag[0]);
    const here = tag !== undefined ? `${prefix}{${tag[0]}=${String(tag[1].const)}}` : prefix;
    for (const [k, v] of Object.entries(node.properties)) numericFields(v, discriminators, here === '' ? k : `${here}.${k}`, out);
  }
  return out;
}

/** `integer in [1, 10000]`, `number in [0, 3600000]`, `number` (no bounds). */
export function rangeText(n: JsonNode): string {
  const t = Array.isArray(n.type) ? n.type.filter((x) => x !== 'null').join(' or ') : (n.type ?? 'number');
  const lo = n.minimum !== undefined ? `[${n.minimum}` : n.exclusiveMinimum !== undefined ? `(${n.exclusiveMinimum}` : undefined;
  const hi = n.maximum !== undefined ? `${n.maximum}]` : n.exclusiveMaximum !== undefined ? `${n.exclusiveMaximum})` : undefined;
  return lo !== undefined && hi !== undefined ? `${t} in ${lo}, ${hi}` : t;
}

/** The rows of the ranges table in docs/scenario-defaults.md, one per numeric field, in schema order. */
export function rangeRows(schema: JsonNode): string[] {
  const rows = numericFields(schema).map((f) => `| \`${f.pattern}\` | ${rangeText(f.node)} |`);
  return [...new Set(rows)];
}
