/** Human report: findings grouped by file, compiler style (`file:line:col: error DSL050: …`) with a code frame. */
import { paint } from '../../core/log.js';
import { formatPosition } from '../../core/errors.js';
import type { Finding } from '../types.js';
import { totals, type FileReport } from '../validate.js';

const LABEL = { error: 'error', warning: 'warning', info: 'note' } as const;
const COLOUR = { error: 'red', warning: 'yellow', info: 'cyan' } as const;
const MAX_FRAME_WIDTH = 140;

/** Terminal cells of one character: CJK and other wide characters take two (so carets line up under them). */
function cellWidth(ch: string): number {
  const c = ch.codePointAt(0)!;
  return (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
    ? 2
    : 1;
}

/** The source line and a caret under the column (columns count UTF-16 units, like the yaml package). */
export function codeFrame(text: string, line: number, column: number, lineIndex?: number[]): string | null {
  const starts = lineIndex ?? lineStarts(text);
  if (line < 1 || line > starts.length) return null;
  let src = text.slice(starts[line - 1], line < starts.length ? starts[line]! - 1 : text.length).replace(/\r$/, '');
  let col = Math.max(1, column);
  // Long lines (minified JSON, long prompts): show a window around the column.
  let prefix = '';
  if (src.length > MAX_FRAME_WIDTH) {
    const from = Math.max(0, col - 1 - Math.floor(MAX_FRAME_WIDTH / 2));
    src = src.slice(from, from + MAX_FRAME_WIDTH);
    if (from > 0) {
      prefix = '…';
      col -= from;
    }
  }
  const gutter = String(line);
  let pad = prefix ? 1 : 0;
  const before = src.slice(0, col - 1);
  for (const ch of before) pad += ch === '\t' ? 1 : cellWidth(ch);
  const caretLine = (before.includes('\t') ? [...before].map((ch) => (ch === '\t' ? '\t' : ' '.repeat(cellWidth(ch)))).join('') + (prefix ? ' ' : '') : ' '.repeat(pad));
  return `${paint('dim', `${gutter} |`)} ${prefix}${src}\n${paint('dim', `${' '.repeat(gutter.length)} |`)} ${caretLine}${paint('bold', '^')}`;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function headline(f: Finding): string {
  const pos = formatPosition({ file: f.file, line: f.line, column: f.column });
  const inner = f.embedded ? ` (data ${f.embedded.line}:${f.embedded.column})` : '';
  return `${paint('bold', pos)}${inner}: ${paint(COLOUR[f.severity], LABEL[f.severity])} ${paint('dim', f.ruleId)}: ${f.message}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatText(reports: FileReport[], opts: { strict?: boolean } = {}): string {
  const out: string[] = [];
  for (const r of reports) {
    const errors = r.findings.filter((f) => f.severity === 'error').length;
    const warnings = r.findings.filter((f) => f.severity === 'warning').length;
    const about = [r.mode, r.version ? `DSL ${r.version}` : undefined].filter(Boolean).join(', ');
    const status = errors ? paint('red', `✖ ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`) : warnings ? paint('yellow', `⚠ ${plural(warnings, 'warning')}`) : paint('green', '✔ ok');
    out.push(`${paint('bold', r.file)}${about ? paint('dim', ` (${about})`) : ''}  ${status}`);
    const index = r.text !== undefined ? lineStarts(r.text) : undefined;
    const embeddedIndex = r.embeddedText !== undefined ? lineStarts(r.embeddedText) : undefined;
    for (const f of r.findings) {
      out.push(`  ${headline(f)}`);
      if (f.severity === 'info') continue;
      const frame = f.embedded
        ? r.embeddedText !== undefined && codeFrame(r.embeddedText, f.embedded.line, f.embedded.column, embeddedIndex)
        : r.text !== undefined && codeFrame(r.text, f.line, f.column, index);
      if (frame) out.push(frame.replace(/^/gm, '    '));
    }
    out.push('');
  }
  const t = totals(reports);
  const failed = t.errors > 0 || (opts.strict && t.warnings > 0);
  const summary = `${plural(t.files, 'file')} validated: ${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')}${t.infos ? `, ${plural(t.infos, 'note')}` : ''}${opts.strict && t.warnings && !t.errors ? ' (--strict: warnings fail)' : ''}`;
  out.push(failed ? paint('red', summary) : paint('green', summary));
  return out.join('\n');
}
