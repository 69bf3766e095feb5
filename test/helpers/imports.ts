/**
 * The import graph of runner/src, read with the TypeScript compiler (ts.preProcessFile: static, type-only,
 * re-exports and dynamic imports count; comments and strings do not). Only the runner's own modules: packages and
 * node: builtins are left out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface Edge {
  /** Importing file, relative to the source root, e.g. `deploy/deploy.ts`. */
  from: string;
  /** Imported file, relative to the source root (`.js` specifiers name `.ts` sources). */
  to: string;
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every file under `root` and what it imports of `root`. */
export function importGraph(root: string): { files: string[]; edges: Edge[] } {
  const files = walk(root, []);
  const edges: Edge[] = [];
  for (const file of files) {
    for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), imported.fileName).replace(/\.js$/, '.ts');
      const to = relative(root, target).split('\\').join('/');
      edges.push({ from: relative(root, file).split('\\').join('/'), to });
    }
  }
  return { files: files.map((f) => relative(root, f).split('\\').join('/')), edges };
}

/** Whether `file` calls a function named `name` (a call expression, read with the TypeScript compiler). */
export function calls(file: string, name: string): boolean {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) found = true;
    else ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

/** The import cycles among `files` (each as a path a → b → … → a), found with Tarjan's strongly connected components. */
export function cycles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!next.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      const selfLoop = next.get(v)!.includes(v);
      if (scc.length > 1 || selfLoop) out.push(scc.reverse());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}
