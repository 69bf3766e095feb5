/**
 * §8 documents by file (multipart) and their segments: the upload checks in Dify's order (create: 400 invalid_param,
 * update: 413/415), extraction per format with the `error` indexing path for unreadable content, Q&A documents from
 * question,answer CSV, segment routes.
 */
import assert from 'node:assert/strict';
import { crc32, deflateRawSync } from 'node:zlib';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { service, serviceForm, specCheck, uploadForm } from './helpers.js';

const AUTO = { mode: 'automatic' };

/** A zip (deflated entries) as DOCX/XLSX are. */
function zip(entries: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(entries)) {
    const raw = Buffer.from(text, 'utf8');
    const data = deflateRawSync(raw);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(8, 8);
    h.writeUInt32LE(crc32(raw), 14);
    h.writeUInt32LE(data.length, 18);
    h.writeUInt32LE(raw.length, 22);
    h.writeUInt16LE(Buffer.byteLength(name), 26);
    parts.push(h, Buffer.from(name), data);
  }
  return Buffer.concat(parts);
}

describe('emulator §8: documents by file, Q&A documents, segments', function () {
  let emu: Emulator;
  let key: string;
  let ds: string;

  before(async () => {
    emu = await startEmulator({ port: 0 });
  });
  after(async () => emu.close());
  beforeEach(async () => {
    emu.reset();
    key = emu.createDatasetApiKey();
    ds = (await service(emu, key, 'POST', '/datasets', { name: 'files' })).json.id;
  });

  const upload = (name: string, content: string | Buffer, data: unknown = { indexing_technique: 'economy', process_rule: AUTO }, type?: string) =>
    serviceForm(emu, key, 'POST', `/datasets/${ds}/document/create-by-file`, uploadForm(name, content, data, type));
  const indexed = async (docId: string) => {
    emu.advanceClock(5_000);
    return (await service(emu, key, 'GET', `/datasets/${ds}/documents/${docId}`)).json;
  };
  const segments = async (docId: string) => (await service(emu, key, 'GET', `/datasets/${ds}/documents/${docId}/segments?limit=100`)).json;

  it('create-by-file: Markdown, HTML, CSV rows, DOCX and PDF text become segments; the file is the document', async () => {
    const md = await upload('guide.md', '# Refunds\nSee [the policy](https://x.example/p) for refunds.\n\n## Fees\nNo fees apply.');
    assert.equal(md.status, 200, md.text);
    assert.equal(md.json.document.name, 'guide.md');
    assert.equal(md.json.document.data_source_detail_dict.upload_file.extension, 'md');
    const mdDoc = await indexed(md.json.document.id);
    assert.equal(mdDoc.indexing_status, 'completed');
    assert.equal(mdDoc.data_source_info.upload_file.name, 'guide.md');
    assert.match((await segments(md.json.document.id)).data.map((s: { content: string }) => s.content).join('|'), /See the policy for refunds\./);

    const checks: [string, string | Buffer, RegExp][] = [
      ['page.html', '<html><body><h1>Hours</h1><p>Open &amp; staffed 9&ndash;5</p><script>x()</script></body></html>', /Hours\s+Open & staffed/],
      ['rates.csv', 'product,rate\nsavings,2.5%\nloan,6%', /product: savings;rate: 2\.5%/],
      ['terms.docx', zip({ 'word/document.xml': '<w:document><w:body><w:p><w:r><w:t>Clause one applies.</w:t></w:r></w:p></w:body></w:document>' }), /Clause one applies\./],
      ['scan.pdf', '%PDF-1.4\n1 0 obj<<>>stream\nBT (Statement of account) Tj ET\nendstream', /Statement of account/],
    ];
    for (const [name, content, expected] of checks) {
      const r = await upload(name, content);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.equal((await indexed(r.json.document.id)).indexing_status, 'completed', name);
      assert.match((await segments(r.json.document.id)).data.map((s: { content: string }) => s.content).join('\n'), expected, name);
    }
  });

  it('unreadable content indexes to `error` (waiting → parsing → error) with the extractor’s message', async () => {
    const r = await upload('broken.pdf', 'this is not a pdf');
    assert.equal(r.status, 200);
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await service(emu, key, 'GET', `/datasets/${ds}/documents/${r.json.batch}/indexing-status`)).json.data[0].indexing_status);
    assert.deepEqual(statuses, ['parsing', 'error', 'error']);
    const st = (await service(emu, key, 'GET', `/datasets/${ds}/documents/${r.json.batch}/indexing-status`)).json.data[0];
    assert.equal(st.error, 'Failed to load document (PDFium: Data format error).');
    assert.equal(typeof st.stopped_at, 'number');
    const doc = (await service(emu, key, 'GET', `/datasets/${ds}/documents/${r.json.document.id}`)).json;
    assert.deepEqual([doc.display_status, doc.segment_count], ['error', 0]);
    const docx = await upload('bad.docx', 'plain text');
    assert.equal((await indexed(docx.json.document.id)).error, 'File is not a zip file');
    const binary = await upload('blob.txt', Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x00]));
    assert.match((await indexed(binary.json.document.id)).error, /^Decode failed: blob\.txt/);
  });

  it('upload refusals in Dify’s order: create → 400 (invalid_param for type and size), update → 415/413', async () => {
    const none = await serviceForm(emu, key, 'POST', `/datasets/${ds}/document/create-by-file`, (() => {
      const f = new FormData();
      f.append('data', JSON.stringify({ indexing_technique: 'economy', process_rule: AUTO }));
      return f;
    })());
    assert.deepEqual(none.json, { code: 'no_file_uploaded', message: 'Please upload your file.', status: 400 });
    const two = uploadForm('a.txt', 'a', { indexing_technique: 'economy', process_rule: AUTO });
    two.append('file2', new Blob(['b']), 'b.txt');
    assert.deepEqual((await serviceForm(emu, key, 'POST', `/datasets/${ds}/document/create-by-file`, two)).json, { code: 'too_many_files', message: 'Only one file is allowed.', status: 400 });
    assert.deepEqual((await upload('tool.exe', 'MZ')).json, { code: 'invalid_param', message: '', status: 400 });
    const big = Buffer.alloc(15 * 1024 * 1024 + 1, 97);
    assert.deepEqual((await upload('big.txt', big)).json, { code: 'invalid_param', message: `File size exceeded. ${big.length} > ${15 * 1024 * 1024}`, status: 400 });
    assert.deepEqual((await upload('a.txt', 'x', { indexing_technique: 'economy' })).json, { code: 'invalid_param', message: 'process_rule is required.', status: 400 });
    assert.deepEqual((await upload('a.txt', 'x', {})).json, { code: 'invalid_param', message: 'indexing_technique is required.', status: 400 });

    const ok = await upload('notes.txt', 'first version');
    emu.advanceClock(5_000);
    const put = (name: string, content: string | Buffer) => serviceForm(emu, key, 'PATCH', `/datasets/${ds}/documents/${ok.json.document.id}`, uploadForm(name, content, { doc_form: 'text_model' }));
    assert.deepEqual((await put('tool.exe', 'MZ')).json, { code: 'unsupported_file_type', message: 'File type not allowed.', status: 415 });
    assert.equal((await put('big.txt', big)).json.code, 'file_too_large');
    const updated = await put('notes-v2.txt', 'second version');
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual([updated.json.document.id, updated.json.document.name, updated.json.batch], [ok.json.document.id, 'notes-v2.txt', ok.json.batch]);
    emu.advanceClock(5_000);
    const alias = await serviceForm(emu, key, 'POST', `/datasets/${ds}/documents/${ok.json.document.id}/update-by-file`, uploadForm('notes-v3.txt', 'third version'));
    assert.equal(alias.status, 200);
    assert.equal((await indexed(ok.json.document.id)).name, 'notes-v3.txt');
    assert.equal((await segments(ok.json.document.id)).data[0].content, 'third version');
  });

  it('Q&A documents: question,answer CSV rows become segments with answers; answer required when adding one', async () => {
    const csv = 'Question,Answer\n"How long do refunds take?","Up to 14 days."\nWho handles complaints?,The ombudsman.\n';
    const r = await upload('faq.csv', csv, { indexing_technique: 'high_quality', doc_form: 'qa_model', process_rule: AUTO }, 'text/csv');
    assert.equal(r.status, 200, r.text);
    const doc = await indexed(r.json.document.id);
    assert.deepEqual([doc.doc_form, doc.segment_count], ['qa_model', 2]);
    const segs = await segments(r.json.document.id);
    assert.deepEqual(segs.data.map((s: { content: string; answer: string }) => [s.content, s.answer]), [['How long do refunds take?', 'Up to 14 days.'], ['Who handles complaints?', 'The ombudsman.']]);
    assert.equal(segs.doc_form, 'qa_model');
    const add = (segment: Record<string, unknown>) => service(emu, key, 'POST', `/datasets/${ds}/documents/${r.json.document.id}/segments`, { segments: [segment] });
    assert.deepEqual((await add({ content: 'Where?' })).json, { code: 'invalid_param', message: 'Answer is required', status: 400 });
    const added = await add({ content: 'Where is the office?', answer: 'Main street.' });
    assert.equal(added.status, 200);
    assert.equal(added.json.data[0].position, 3);
  });

  it('segments: list with keyword and paging, add to a completed document only, read, update, disable, delete', async () => {
    const r = await service(emu, key, 'POST', `/datasets/${ds}/document/create-by-text`, { name: 'p.txt', text: 'alpha one', indexing_technique: 'economy', process_rule: AUTO });
    const doc = r.json.document.id;
    const seg = `/datasets/${ds}/documents/${doc}/segments`;
    assert.deepEqual((await service(emu, key, 'POST', seg, { segments: [{ content: 'x' }] })).json, { code: 'not_found', message: 'Document is not completed.', status: 404 });
    emu.advanceClock(5_000);
    const added = await service(emu, key, 'POST', seg, { segments: [{ content: 'beta two', keywords: ['beta'] }, { content: 'gamma three' }] });
    assert.equal(added.status, 200, added.text);
    assert.deepEqual(added.json.data.map((s: { keywords: string[] }) => s.keywords), [['beta'], ['gamma', 'three']]);
    assert.deepEqual((await service(emu, key, 'GET', `${seg}?keyword=GAMMA`)).json.data.map((s: { content: string }) => s.content), ['gamma three']);
    const page = (await service(emu, key, 'GET', `${seg}?limit=2&page=1`)).json;
    assert.deepEqual([page.total, page.data.length, page.has_more], [3, 2, true]);
    const id = added.json.data[0].id as string;
    assert.equal((await service(emu, key, 'GET', `${seg}/${id}`)).json.data.content, 'beta two');
    const upd = await service(emu, key, 'POST', `${seg}/${id}`, { segment: { content: 'beta two, revised' } });
    assert.equal(upd.json.data.content, 'beta two, revised');
    assert.equal(upd.json.data.word_count, 'beta two, revised'.length);
    assert.equal((await service(emu, key, 'POST', `${seg}/${id}`, { segment: { enabled: false } })).json.data.enabled, false);
    assert.equal((await service(emu, key, 'DELETE', `${seg}/${id}`)).status, 204);
    assert.equal((await service(emu, key, 'GET', `${seg}/${id}`)).json.message, 'Segment not found.');
    specCheck.enabled = false; // Dify answers this one with a bare {"error": …} body
    try {
      const raw = await service(emu, key, 'POST', seg, {});
      assert.deepEqual([raw.status, raw.json], [400, { error: 'Segments is required' }]);
    } finally {
      specCheck.enabled = true;
    }
  });
});
