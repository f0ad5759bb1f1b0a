import { QaqError } from '@qaq/errors';

export interface DownloadProgress {
  readonly receivedBytes: number;
  /** null when the server sends no Content-Length. */
  readonly totalBytes: number | null;
}

/** Downloads a file into one Uint8Array, reporting progress per received chunk. */
export async function fetchWithProgress(
  url: string,
  onProgress: (progress: DownloadProgress) => void,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const response = await fetch(url, signal === undefined ? {} : { signal });
  if (!response.ok || response.body === null) {
    throw new QaqError('model-download-failed', `could not download ${url}: HTTP ${response.status} ${response.statusText}`, {
      details: { url, status: response.status },
    });
  }
  const header = Number.parseInt(response.headers.get('content-length') ?? '', 10);
  const totalBytes = Number.isFinite(header) && header > 0 ? header : null;
  const reader = response.body.getReader();
  // With a known length the bytes go straight into their final buffer; anything beyond it (a wrong or compressed
  // length, or none) is kept as chunks and joined at the end.
  const buffer = new Uint8Array(totalBytes ?? 0);
  const overflow: Uint8Array[] = [];
  let receivedBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (overflow.length === 0 && receivedBytes + value.byteLength <= buffer.byteLength) buffer.set(value, receivedBytes);
    else overflow.push(value);
    receivedBytes += value.byteLength;
    onProgress({ receivedBytes, totalBytes });
  }
  if (overflow.length === 0) return receivedBytes === buffer.byteLength ? buffer : buffer.slice(0, receivedBytes);
  const inBuffer = receivedBytes - overflow.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const joined = new Uint8Array(receivedBytes);
  joined.set(buffer.subarray(0, inBuffer), 0);
  let offset = inBuffer;
  for (const chunk of overflow) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
