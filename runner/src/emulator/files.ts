/**
 * `POST /v1/files/upload` (`api/controllers/service_api/app/file.py`, `services/file_service.py`): one multipart
 * `file` part (+ optional `user` field), checked in Dify's order; the size limits by kind are Dify's defaults
 * (`UPLOAD_*_FILE_SIZE_LIMIT`). Only the file's metadata is kept.
 */
import { appAuth } from './api-key-auth.js';
import type { Core } from './core.js';
import { Ctx, envelope, invalidParam, json, type Router } from './http.js';
import { endUserOf, rememberFile, type UploadFileRecord } from './records.js';
import { randomHex } from './util.js';

const MB = 1024 * 1024;
const IMAGE = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'svg'];
const VIDEO = ['mp4', 'mov', 'mpeg', 'webm'];
const AUDIO = ['mp3', 'm4a', 'wav', 'amr', 'mpga'];

function sizeLimit(ext: string): number {
  if (IMAGE.includes(ext)) return 10 * MB;
  if (VIDEO.includes(ext)) return 100 * MB;
  if (AUDIO.includes(ext)) return 50 * MB;
  return 15 * MB;
}

/**
 * Werkzeug gives a part without a Content-Type header an empty mimetype (Dify: 415); Node's parser would call it
 * text/plain, so the raw part headers are read for that.
 */
function declaresType(raw: Buffer, boundary: string, field: string): boolean {
  for (const part of raw.toString('latin1').split(`--${boundary}`)) {
    const head = part.slice(0, part.indexOf('\r\n\r\n'));
    if (new RegExp(`name="${field}"`, 'i').test(head) && /filename=/i.test(head)) return /^content-type:\s*\S/im.test(head);
  }
  return true;
}

export function fileView(core: Core, f: UploadFileRecord): Record<string, unknown> {
  const ts = core.clock.nowSec();
  return {
    id: f.id,
    name: f.name,
    size: f.size,
    extension: f.extension,
    mime_type: f.mimeType,
    created_by: f.createdBy,
    created_at: f.createdAt,
    preview_url: null,
    source_url: `${core.opts.publicUrl ?? core.url}/files/${f.id}/file-preview?timestamp=${ts}&nonce=${randomHex(16)}&sign=${randomHex(22)}`,
    original_url: null,
    user_id: null,
    tenant_id: f.workspaceId,
    conversation_id: null,
    file_key: null,
  };
}

export function registerFiles(core: Core, r: Router): void {
  r.add('POST', '/v1/files/upload', async (ctx: Ctx) => {
    const { app } = appAuth(core, ctx);
    const form = await ctx.formData();
    const user = form?.get('user');
    const endUser = endUserOf(core, app, typeof user === 'string' ? user : undefined);
    const files = form ? [...form.entries()].filter(([, v]) => typeof v !== 'string') : [];
    const file = form?.get('file');
    if (!file || typeof file === 'string') throw envelope(400, 'no_file_uploaded', 'Please upload your file.');
    if (files.length > 1) throw envelope(400, 'too_many_files', 'Only one file is allowed.');
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ctx.header('content-type') ?? '');
    if (!file.type || (boundary && !declaresType(ctx.raw, boundary[1] ?? boundary[2]!, 'file'))) {
      throw envelope(415, 'unsupported_file_type', 'File type not allowed.');
    }
    if (!file.name) throw envelope(400, 'filename_not_exists_error', 'The specified filename does not exist.');
    if (/[/\\]/.test(file.name)) throw invalidParam('Filename contains invalid characters');
    const ext = file.name.includes('.') ? file.name.split('.').pop()!.toLowerCase() : '';
    // The message is empty in Dify's answer (the description is not passed on).
    if (file.size > sizeLimit(ext)) throw envelope(413, 'file_too_large', '');
    const f = rememberFile(core, {
      id: core.newId(),
      appId: app.id,
      workspaceId: app.workspaceId,
      name: file.name.length > 200 ? `${file.name.slice(0, 200 - ext.length - 1)}.${ext}` : file.name,
      size: file.size,
      extension: ext,
      mimeType: file.type,
      createdBy: endUser.id,
      createdAt: core.clock.nowSec(),
    });
    return json(201, fileView(core, f));
  });
}
