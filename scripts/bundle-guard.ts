/**
 * The bundle's one hard rule: no dynamic import() of a module outside it. esbuild leaves such a call (a Node
 * built-in, an external package) as a real import(), which Node refuses inside runner.cjs's vm.Script
 * compile-cache wrapper (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). Returns "file: import('x')" for each one found
 * in an esbuild metafile.
 */
import type { Metafile } from 'esbuild';

export function dynamicExternals(metafile: Metafile): string[] {
  return Object.entries(metafile.inputs).flatMap(([file, input]) =>
    input.imports.filter((i) => i.kind === 'dynamic-import' && i.external).map((i) => `${file}: import('${i.original ?? i.path}')`),
  );
}
