/** `yaml-url` imports (§3.1 step 2): GitHub blob URLs rewritten to raw, 10 s timeout, the 10 MB limit on bytes. */
export const DSL_MAX_SIZE = 10 * 1024 * 1024;

export async function fetchYaml(rawUrl: string): Promise<{ content: string } | { error: string }> {
  let url = rawUrl.trim();
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' && u.host === 'github.com' && /\.ya?ml$/.test(u.pathname)) {
      url = url.replace('https://github.com', 'https://raw.githubusercontent.com').replace('/blob/', '/');
    }
    const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return { error: `Error fetching YAML from URL: Client error '${res.status} ${res.statusText}' for url '${url}'` };
    const bytes = await readCapped(res, DSL_MAX_SIZE);
    // Dify compares the byte length (before decoding): multibyte text reaches the limit with fewer characters.
    if (!bytes) return { error: 'File size exceeds the limit of 10MB' };
    const content = new TextDecoder('utf-8').decode(bytes);
    if (!content) return { error: 'Empty content from url' };
    return { content };
  } catch (e) {
    return { error: `Error fetching YAML from URL: ${(e as Error).message}` };
  }
}

/** The body, or undefined as soon as it grows past `max` bytes (the rest is never downloaded). */
async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  // Content-Length is only the decoded size when no Content-Encoding applies (fetch inflates gzip).
  const declared = res.headers.has('content-encoding') ? NaN : Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
