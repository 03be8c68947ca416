/**
 * Every name `desim` and `desim/testing` export carries TSDoc (the API pages
 * of `npm run docs` are generated from it), checked with the compiler's own
 * view of the export lists.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

function undocumented(entry: string): string[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`cannot read ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new Error(`${entry} is not a module`);
  const missing: string[] = [];
  for (const exp of checker.getExportsOfModule(moduleSymbol)) {
    const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    const documented = (target.declarations ?? []).some(
      (d) => ts.getJSDocCommentsAndTags(d).length > 0 || (ts.isVariableDeclaration(d) && ts.getJSDocCommentsAndTags(d.parent.parent).length > 0),
    );
    if (!documented) missing.push(exp.getName());
  }
  return missing.sort();
}

describe('TSDoc on the public API', () => {
  it('every export of desim has a doc comment', () => {
    expect(undocumented('src/index.ts')).toEqual([]);
  });
  it('every export of desim/testing has a doc comment', () => {
    expect(undocumented('src/testing/index.ts')).toEqual([]);
  });
});
