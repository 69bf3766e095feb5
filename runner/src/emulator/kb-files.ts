/**
 * Multipart uploads of the document routes (`create-by-file`, `update-by-file`, `PATCH …/documents/{id}`) and
 * `FileService.upload_file(source="datasets")`: the `data` part (a JSON string), one `file` part, Dify's refusals in
 * its order. A refused upload on create surfaces as `400 invalid_param` (the service error is a ValueError there);
 * the update routes turn it into `413 file_too_large` / `415 unsupported_file_type`.
 */
import { Ctx, envelope, invalidParam } from './http.js';
import { DOCUMENT_EXTENSIONS } from './kb-extract.js';
import { isObject } from './util.js';

/** `UPLOAD_FILE_SIZE_LIMIT` (MB) for documents. */
export const DOCUMENT_SIZE_LIMIT = 15 * 1024 * 1024;

export interface Upload {
  name: string;
  extension: string;
  mimeType: string;
  bytes: Buffer;
}

/** `json.loads(request.form["data"])` (Python's message for the common failure). */
function parseData(raw: ReturnType<FormData['get']>): Record<string, unknown> {
  if (raw === null) return {};
  let v: unknown;
  try {
    v = JSON.parse(String(raw));
  } catch {
    throw invalidParam('Expecting value: line 1 column 1 (char 0)');
  }
  if (!isObject(v)) throw invalidParam("'data' must be a JSON object");
  return v;
}

export interface FileRequest {
  args: Record<string, unknown>;
  form: FormData | undefined;
}

/** The form and its `data` arguments (a non-multipart body has neither). */
export async function fileRequest(ctx: Ctx): Promise<FileRequest> {
  const form = await ctx.formData();
  return { args: parseData(form?.get('data') ?? null), form };
}

/**
 * The `file` part checked as Dify does: `no_file_uploaded` (create only: update keeps its file), `too_many_files`,
 * `filename_not_exists_error`, invalid characters, the extension list, the size limit.
 */
export async function takeFile(req: FileRequest, mode: 'create' | 'update'): Promise<Upload | undefined> {
  const files = req.form ? [...req.form.entries()].filter(([, v]) => typeof v !== 'string') : [];
  const file = req.form?.get('file');
  if (!file || typeof file === 'string') {
    if (mode === 'update') return undefined;
    throw envelope(400, 'no_file_uploaded', 'Please upload your file.');
  }
  if (files.length > 1) throw envelope(400, 'too_many_files', 'Only one file is allowed.');
  if (!file.name) throw envelope(400, 'filename_not_exists_error', 'The specified filename does not exist.');
  if (/[/\\:*?"<>|]/.test(file.name)) throw invalidParam('Filename contains invalid characters');
  const dot = file.name.lastIndexOf('.');
  const extension = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : '';
  const name = file.name.length > 200 ? `${file.name.split('.')[0]!.slice(0, 200)}.${extension}` : file.name;
  if (!DOCUMENT_EXTENSIONS.includes(extension)) {
    throw mode === 'create' ? invalidParam('') : envelope(415, 'unsupported_file_type', 'File type not allowed.');
  }
  if (file.size > DOCUMENT_SIZE_LIMIT) {
    const msg = `File size exceeded. ${file.size} > ${DOCUMENT_SIZE_LIMIT}`;
    throw mode === 'create' ? invalidParam(msg) : envelope(413, 'file_too_large', msg);
  }
  return { name, extension, mimeType: file.type || 'application/octet-stream', bytes: Buffer.from(await file.arrayBuffer()) };
}
