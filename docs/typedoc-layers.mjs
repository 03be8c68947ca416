// TypeDoc plugin (loaded by typedoc.json): groups the exports of `desim` and `desim/testing` by the
// layer that defines them (docs/architecture.md), so the API pages read kernel, network, protocols,
// simulation, scenarios, testing instead of one flat list of ~150 names. The layer is the folder of
// the declaring file under src/; an export from a folder this table does not know is a warning,
// which `npm run docs` treats as an error (test/api-docs-build.spec.ts), so a new layer cannot slip
// into the catch-all group unnoticed.
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';

/** Folder under src/ (longest match first) -> group title. The order here is the order on the page. */
export const LAYER_GROUPS = [
  ['kernel', 'Kernel'],
  ['net', 'Network'],
  ['protocols/sans-io.ts', 'Protocols: the sans-I/O contract'],
  ['protocols/gossip', 'Protocols: gossip'],
  ['protocols/tcp', 'Protocols: TCP'],
  ['sim', 'Simulation'],
  ['scenarios', 'Scenarios'],
  ['io', 'Output files'],
  ['testing', 'Testing'],
];

/** The group of a declaring file, or undefined when it is outside the table. */
export function layerOf(fileName) {
  const m = /(?:^|\/)src\/(.+)$/.exec(fileName.replace(/\\/g, '/'));
  if (m === null) return undefined;
  const rel = m[1];
  const hits = LAYER_GROUPS.filter(([dir]) => rel === dir || rel.startsWith(`${dir}/`));
  hits.sort((a, b) => b[0].length - a[0].length);
  return hits[0]?.[1];
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const pending = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.kindOf(ReflectionKind.SomeModule) || !reflection.parent?.kindOf(ReflectionKind.SomeModule | ReflectionKind.Project)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    const group = file === undefined ? undefined : layerOf(file);
    if (group === undefined) {
      app.logger.warn(`typedoc-layers: ${reflection.name} (${file ?? 'no source'}) is in no layer of docs/typedoc-layers.mjs`);
      return;
    }
    pending.set(reflection, group);
  });
  // Before the group plugin (priority -100) reads the tags.
  app.converter.on(Converter.EVENT_RESOLVE_END, () => {
    for (const [reflection, group] of pending) {
      reflection.comment ??= new Comment();
      if (!reflection.comment.blockTags.some((t) => t.tag === '@group'))
        reflection.comment.blockTags.push(new CommentTag('@group', [{ kind: 'text', text: group }]));
    }
    pending.clear();
  });
}
