/**
 * Reads YAML exactly as Dify does (`yaml.safe_load`, PyYAML 6): the `yaml` package tokenises and composes (after
 * the fixes of pyyaml-text.ts), and {@link construct} builds the value as SafeConstructor does — PyYAML's types,
 * merge keys, `=` and unhashable keys refused, keys named as `json.dumps` names them (Dify stores JSON).
 *
 * What differs from safe_load, on purpose: a value PyYAML reads as a date, datetime, bytes or set — which Dify
 * cannot store (`json.dumps` fails) — and an integer beyond ±2^53 (which JavaScript cannot hold) are returned as
 * the text written and reported as `unstorable`, so no caller ever meets a `Date` or a rounded number unawares.
 */
import { Composer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq, type CST, type Document, type Node } from 'yaml';
import { aliasProblem, cstDepthProblem, firstNonPrintable, lexerDepthProblem } from './limits.js';
import { PY, pyConstruct, pyJsonKey, pyResolvePlain, pyyamlTags, type PyNode, type PyScalar } from './pyyaml-scalars.js';
import { emptyKeyProblem, lexicalProblem, normaliseBreaks, repairIndentation, scanQuoted } from './pyyaml-text.js';

type PathSegment = string | number;

/**
 * - `syntax`: not YAML (PyYAML's scanner or parser fails);
 * - `refused`: YAML that safe_load refuses to construct (`=`, `<<` as a value, unhashable keys, bad dates, tabs…);
 * - `limit`: past the depth or alias-expansion limits (limits.ts);
 * - `duplicate-key`: legal (PyYAML keeps the last value), reported when asked for;
 * - `unstorable`: read by PyYAML, but not storable by Dify or not exact in JavaScript (see above).
 */
export type PyIssueKind = 'syntax' | 'refused' | 'limit' | 'duplicate-key' | 'unstorable';

export interface PyIssue {
  kind: PyIssueKind;
  /** Offset into {@link PyLoaded.parsed} (equal to the source offset except after repaired quoted scalars). */
  offset: number;
  message: string;
  path?: PathSegment[];
  /** For `unstorable`: what PyYAML builds there. `ambiguous`: refused by us, read differently by PyYAML and YAML 1.2. */
  type?: 'date' | 'datetime' | 'bytes' | 'set' | 'big-int' | 'ambiguous';
}

export interface PyLoaded {
  /** The text as given. */
  text: string;
  /** The text the `yaml` package parsed: line breaks normalised, quoted continuation lines indented. */
  parsed: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The value; undefined when an issue other than `duplicate-key`/`unstorable` stopped the load. */
  value: unknown;
  issues: PyIssue[];
  /** True when safe_load would return a value (no syntax/refused/limit issue). */
  ok: boolean;
}

export interface PyLoadOptions {
  /** Report duplicate keys (kind `duplicate-key`); PyYAML keeps the last value either way. */
  duplicateKeys?: boolean;
}

const FATAL: ReadonlySet<PyIssueKind> = new Set(['syntax', 'refused', 'limit']);
const T = 'tag:yaml.org,2002:';

/** A merge key is never a duplicate: PyYAML merges every `<<` of a mapping. */
const sameKey = (a: unknown, b: unknown) => isScalar(a) && isScalar(b) && a.value === b.value && (a as PyNode)[PY]?.tag !== 'merge';

export function loadPyYaml(text: string, opts: PyLoadOptions = {}): PyLoaded {
  const issues: PyIssue[] = [];
  const options = { version: '1.1', customTags: pyyamlTags, merge: false, uniqueKeys: opts.duplicateKeys ? sameKey : false, prettyErrors: false, strict: true } as const;
  let lines = new LineCounter();
  const result = (doc: Document.Parsed | null, parsed: string, value?: unknown): PyLoaded => {
    const d = doc ?? (new Composer(options).compose([], true, 0).next().value as Document.Parsed);
    return { text, parsed, doc: d, lines, value, issues, ok: !issues.some((i) => FATAL.has(i.kind)) };
  };
  const countLines = (s: string) => {
    lines.addNewLine(0);
    for (const m of s.matchAll(/\n/g)) lines.addNewLine(m.index + 1);
  };

  const np = firstNonPrintable(text);
  if (np) {
    issues.push({ kind: 'refused', offset: np.offset, message: np.message });
    countLines(text);
    return result(null, text);
  }
  let parsed = normaliseBreaks(text);
  const early = lexerDepthProblem(parsed);
  if (early) {
    issues.push({ kind: 'limit', ...early });
    countLines(parsed);
    return result(null, parsed);
  }
  let tokens = [...new Parser(lines.addNewLine).parse(parsed)];
  const deep = cstDepthProblem(tokens);
  if (deep) {
    issues.push({ kind: 'limit', ...deep });
    return result(null, parsed);
  }
  let doc = compose(tokens, parsed, options);
  if (doc?.errors.length) {
    // PyYAML ignores indentation inside quotes and [ ] { }; the yaml lexer may have ended one early. Indent, parse again.
    const repaired = repairIndentation(parsed);
    if (repaired !== parsed) {
      parsed = repaired;
      lines = new LineCounter();
      tokens = [...new Parser(lines.addNewLine).parse(parsed)];
      const deeper = cstDepthProblem(tokens);
      if (deeper) {
        issues.push({ kind: 'limit', ...deeper });
        return result(null, parsed);
      }
      doc = compose(tokens, parsed, options);
    }
  }
  const lexical = lexicalProblem(tokens, parsed) ?? emptyKeyProblem(tokens);
  if (lexical) issues.push({ kind: 'refused', offset: lexical.offset, message: lexical.message, ...(lexical.ambiguous ? { type: 'ambiguous' as const } : {}) });
  if (doc?.multiple !== undefined) issues.push({ kind: 'syntax', offset: doc.multiple, message: 'expected a single document in the stream, but found another document' });
  for (const e of doc?.errors ?? []) {
    // With LS/PS in the text, quoted scalars are read by scanQuoted (PyYAML: `\` before LS/PS joins the lines).
    if (e.code === 'BAD_DQ_ESCAPE' && /[\u2028\u2029]/.test(parsed)) continue;
    const kind = e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'syntax';
    issues.push({ kind, offset: e.pos[0], message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
  }
  for (const w of doc?.warnings ?? []) {
    // Unknown tags (`!!python/object`, `!foo`): safe_load has no constructor for them.
    const version = w.code === 'BAD_DIRECTIVE' ? /Unsupported YAML version (\S+)/.exec(w.message)?.[1] : undefined;
    if (version && !version.startsWith('1.')) issues.push({ kind: 'syntax', offset: w.pos[0], message: `found incompatible YAML document (version 1.* is required, this is ${version})` });
    if (w.code === 'TAG_RESOLVE_FAILED') issues.push({ kind: 'refused', offset: w.pos[0], message: `${w.message.split('\n')[0]} (PyYAML safe_load: could not determine a constructor for the tag)` });
  }
  if (!doc || issues.some((i) => FATAL.has(i.kind))) return result(doc, parsed);
  const limit = aliasProblem(doc);
  if (limit) {
    issues.push({ kind: 'limit', ...limit });
    return result(doc, parsed);
  }
  const value = construct(doc, parsed, issues);
  return result(doc, parsed, issues.some((i) => FATAL.has(i.kind)) ? undefined : value);
}

/** The first document, and where a second one starts (safe_load wants exactly one). */
function compose(tokens: CST.Token[], text: string, options: ConstructorParameters<typeof Composer>[0]): (Document.Parsed & { multiple?: number }) | null {
  let doc: (Document.Parsed & { multiple?: number }) | null = null;
  for (const d of new Composer(options).compose(tokens, true, text.length)) {
    if (!doc) doc = d as Document.Parsed;
    else {
      doc.multiple = d.range[0];
      break;
    }
  }
  return doc;
}

const unstorable = (type: 'date' | 'datetime', text: string) =>
  `PyYAML reads ${JSON.stringify(text)} as a datetime.${type}, which Dify cannot store (json.dumps fails: "Object of type ${type} is not JSON serializable"): quote it to keep it text`;

/** A path built only when an issue needs it (most documents have none). */
type PathRef = { parent: PathRef; seg: PathSegment } | null;
const down = (parent: PathRef, seg: PathSegment): PathRef => ({ parent, seg });
function pathOf(ref: PathRef): PathSegment[] {
  const out: PathSegment[] = [];
  for (let r = ref; r; r = r.parent) out.push(r.seg);
  return out.reverse();
}

/** PyYAML's anchor and alias names (scanner.scan_anchor): ASCII letters, digits, `-` and `_`. */
const NAME = /^[0-9A-Za-z_-]+$/;
const badName = (name: string, what: string) =>
  `while scanning ${what}: expected alphabetic or numeric character in ${JSON.stringify(name)} (PyYAML allows only A-Z, a-z, 0-9, - and _ in names)`;

/** SafeConstructor.construct_document, with the differences described at the top of this file. */
function construct(doc: Document.Parsed, text: string, issues: PyIssue[]): unknown {
  const anchors = new Map<string, { node: Node; value: unknown }>();
  // Quoted scalars are the yaml package's values unless LS/PS is in the text: only there do PyYAML's folding rules differ.
  const rescan = /[\u2028\u2029]/.test(text);
  const at = (n: unknown) => (n as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  const issue = (kind: PyIssueKind, offset: number, message: string, ref: PathRef, extra: Partial<PyIssue> = {}) => issues.push({ kind, offset, message, path: pathOf(ref), ...extra });
  const refuse = (n: unknown, message: string, ref: PathRef) => issue('refused', at(n), message, ref);
  const target = (n: unknown): Node | undefined => (isAlias(n) ? anchors.get(n.source)?.node : (n as Node));

  const scalar = (node: PyNode, ref: PathRef, key: boolean, inFlow: boolean): unknown => {
    // PyYAML resolves a scalar tagged `!` as if it were plain, quoted or not (`! '12'` is the int 12).
    const n = node.tag === '!' ? Object.assign(pyConstruct(pyResolvePlain(String(node.value)), String(node.value)), { range: node.range, source: String(node.value) }) : node;
    const py: PyScalar | undefined = n[PY];
    const source = n.source ?? String(n.value);
    if (inFlow && n.type === 'PLAIN' && source.includes('?')) {
      issue('refused', at(n) + source.indexOf('?'), "'?' inside a plain scalar in [ ] or { }: PyYAML ends the scalar there and reads a key (or fails); quote the value", ref, { type: 'ambiguous' });
    }
    if (py?.error) {
      refuse(n, `${py.error} (PyYAML fails to construct ${JSON.stringify(source)} as ${py.tag === 'int' ? 'an int' : `a ${py.tag}`})`, ref);
      return null;
    }
    switch (py?.tag) {
      case undefined:
      case 'str':
        if (rescan && (n.type === 'QUOTE_SINGLE' || n.type === 'QUOTE_DOUBLE')) {
          const scan = scanQuoted(text, at(n));
          if ('error' in scan) {
            issue('syntax', scan.at, scan.error, ref);
            return null;
          }
          return scan.value;
        }
        return typeof n.value === 'string' ? n.value : source;
      case 'int':
        if (py.big) issue('unstorable', at(n), `integer ${py.big} is beyond ±2^53: JavaScript — dify-ci and Dify's web editor — would round it to ${Number(py.big)}; quote it if it is an id`, ref, { type: 'big-int' });
        return n.value;
      case 'timestamp':
        issue('unstorable', at(n), unstorable(py.kind ?? 'date', source), ref, { type: py.kind });
        return source;
      case 'binary':
        issue('unstorable', at(n), 'PyYAML reads !!binary as bytes, which Dify cannot store (json.dumps fails: "Object of type bytes is not JSON serializable")', ref, { type: 'bytes' });
        return source;
      case 'merge':
        refuse(n, `could not determine a constructor for the tag '${T}merge' (a plain << is a merge key; quote it: '<<')`, ref);
        return null;
      case 'value':
        if (key) return '=';
        refuse(n, `could not determine a constructor for the tag '${T}value' (Dify: "Invalid YAML format"); quote it: '='`, ref);
        return null;
      default:
        return n.value;
    }
  };

  const visit = (n: unknown, ref: PathRef, key = false, inFlow = false): unknown => {
    if (isAlias(n)) {
      if (!NAME.test(n.source)) refuse(n, badName(n.source, 'an alias'), ref);
      const a = anchors.get(n.source);
      if (!a) refuse(n, `found undefined alias '${n.source}'`, ref);
      return a?.value ?? null;
    }
    let value: unknown;
    if (isScalar(n)) value = scalar(n as PyNode, ref, key, inFlow);
    else if (isMap(n)) value = mapping(n, ref, inFlow || Boolean(n.flow));
    else if (isSeq(n)) value = sequence(n, ref, inFlow || Boolean(n.flow));
    else value = null;
    const anchor = (n as { anchor?: string } | null)?.anchor;
    if (anchor) {
      const amp = text.lastIndexOf(`&${anchor}`, at(n)); // the node's range starts after its properties
      if (!NAME.test(anchor)) issue('refused', amp >= 0 ? amp : at(n), badName(anchor, 'an anchor'), ref);
      if (anchors.has(anchor)) issue('refused', amp >= 0 ? amp : at(n), `found duplicate anchor '${anchor}' (PyYAML allows each anchor once per document)`, ref);
      anchors.set(anchor, { node: n as Node, value });
    }
    return value;
  };

  const sequence = (n: { items: unknown[] }, ref: PathRef, inFlow: boolean): unknown[] =>
    // !!omap and !!pairs: PyYAML builds a list of (key, value) tuples.
    n.items.map((it, i) => {
      const r = down(ref, i);
      return isPair(it) ? [visit(it.key, down(r, 0), true, inFlow), visit(it.value, down(r, 1), false, inFlow)] : visit(it, r, false, inFlow);
    });

  const mapping = (n: { items: unknown[]; tag?: string }, ref: PathRef, inFlow: boolean): Record<string, unknown> => {
    if (n.tag === `${T}set`) {
      issue('unstorable', at(n), 'PyYAML reads !!set as a Python set, which Dify cannot store (json.dumps fails: "Object of type set is not JSON serializable")', ref, { type: 'set' });
    }
    // Built in document order (aliases refer to anchors before them); merged pairs apply first, later ones win.
    const merged: [string, unknown][] = [];
    const own: [string, string, unknown][] = [];
    for (const it of n.items) {
      if (!isPair(it)) continue;
      const kn = target(it.key);
      if (isScalar(kn) && (kn as PyNode)[PY]?.tag === 'merge') {
        merged.push(...mergeSources(it.value, ref, inFlow));
        continue;
      }
      const keyRef = down(ref, isScalar(kn) ? String(kn.source ?? kn.value) : '?');
      if (isMap(kn) || isSeq(kn)) {
        refuse(it.key, 'while constructing a mapping: found unhashable key (a list or mapping used as a key)', ref);
        continue;
      }
      const key = visit(it.key, keyRef, true, inFlow);
      const py = isScalar(kn) ? (kn as PyNode)[PY] : undefined;
      if (py?.tag === 'timestamp' || py?.tag === 'binary') {
        issue('unstorable', at(it.key), `a ${py.tag === 'binary' ? 'bytes' : 'date'} key: Dify's json.dumps fails ("keys must be str, int, float, bool or None")`, keyRef, { type: py.tag === 'binary' ? 'bytes' : py.kind });
      }
      const jsKey = typeof key === 'string' ? key : pyJsonKey(key, py);
      const textual = typeof key === 'string' || key === undefined;
      const id = textual ? `s:${jsKey}` : key === null ? 'null' : `n:${Number(key)}`;
      own.push([id, jsKey, visit(it.value, down(ref, jsKey), false, inFlow)]);
    }
    const out: Record<string, unknown> = {};
    const ids = new Map<string, string>(); // Python's key equality (True == 1 == 1.0) → the key first inserted
    const put = (id: string, jsKey: string, value: unknown) => {
      const k = ids.get(id) ?? jsKey;
      ids.set(id, k);
      if (k === '__proto__') Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
      else out[k] = value;
    };
    for (const [k, v] of merged) put(`s:${k}`, k, v);
    for (const [id, k, v] of own) put(id, k, v);
    return out;
  };

  /** SafeConstructor.flatten_mapping for one `<<`: its pairs in the order they apply (a later one wins). */
  const mergeSources = (v: unknown, ref: PathRef, inFlow: boolean): [string, unknown][] => {
    const src = target(v);
    const value = visit(v, ref, false, inFlow);
    if (isMap(src)) return Object.entries(value as Record<string, unknown>);
    if (isSeq(src)) {
      const out: [string, unknown][] = [];
      // `<<: [*a, *b]`: a's keys override b's.
      for (let i = src.items.length - 1; i >= 0; i--) {
        const item = target(src.items[i]);
        if (!isMap(item)) {
          refuse(src.items[i], `while constructing a mapping: expected a mapping for merging, but found ${isSeq(item) ? 'sequence' : 'scalar'}`, ref);
          continue;
        }
        out.push(...Object.entries((value as unknown[])[i] as Record<string, unknown>));
      }
      return out;
    }
    refuse(v, `while constructing a mapping: expected a mapping or list of mappings for merging, but found ${src ? 'scalar' : 'nothing'}`, ref);
    return [];
  };

  return visit(doc.contents, null);
}

/** An issue as one line for a person: what PyYAML (and so Dify) does with it. */
export function pyIssueMessage(i: PyIssue): string {
  switch (i.kind) {
    case 'syntax':
      return `invalid YAML: ${i.message} (Dify: "Invalid YAML format")`;
    case 'refused':
      return i.type === 'ambiguous' ? i.message : `${i.message} — PyYAML's safe_load refuses this, so Dify fails the import`;
    case 'duplicate-key':
      return `${i.message} (PyYAML keeps only the last value; remove one)`;
    default:
      return i.message;
  }
}
