/** A small strict XML reader for tests: elements, attributes, text; throws on anything malformed. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    if (!(e in ENTITIES)) throw new Error(`unknown entity &${e};`);
    return ENTITIES[e]!;
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const src = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  if (/&(?!(#x[0-9a-fA-F]+|#\d+|\w+);)/.test(src)) throw new Error('bare & in XML');
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      i = src.indexOf('-->', i) + 3;
      continue;
    }
    if (src[i] === '<') {
      const end = src.indexOf('>', i);
      if (end < 0) throw new Error('unclosed tag');
      const tag = src.slice(i + 1, end);
      i = end + 1;
      if (tag.startsWith('/')) {
        const open = stack.pop()!;
        if (open.name !== tag.slice(1).trim()) throw new Error(`</${tag.slice(1)}> closes <${open.name}>`);
        continue;
      }
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([\w:.-]+)([\s\S]*)$/.exec(body.trim());
      if (!m) throw new Error(`bad tag <${tag}>`);
      const attrs: Record<string, string> = {};
      const rest = m[2]!.trim();
      const attrRe = /([\w:.-]+)="([^"<]*)"\s*/gy;
      let consumed = 0;
      for (let a = attrRe.exec(rest); a; a = attrRe.exec(rest)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        attrs[a[1]!] = decode(a[2]!);
        consumed = attrRe.lastIndex;
      }
      if (consumed !== rest.length) throw new Error(`bad attributes in <${tag}>`);
      const el: XmlElement = { name: m[1]!, attrs, children: [], text: '' };
      stack[stack.length - 1]!.children.push(el);
      if (!selfClosing) stack.push(el);
      continue;
    }
    const next = src.indexOf('<', i);
    const text = src.slice(i, next < 0 ? src.length : next);
    stack[stack.length - 1]!.text += decode(text);
    i = next < 0 ? src.length : next;
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('XML must have one root element');
  return root.children[0]!;
}

export function all(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => (c.name === name ? [c] : []).concat(all(c, name)));
}
