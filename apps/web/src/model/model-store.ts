import { QaqError } from '@qaq/errors';

/** A GGUF kept in browser storage. */
export interface StoredModel {
  /** The name it is stored under (a file name). */
  readonly name: string;
  readonly sizeBytes: number;
  /** Where it came from: a URL, or `file:` + the dropped file's name. */
  readonly source: string;
  /** ISO time of storing. */
  readonly storedAt: string;
}

const cacheName = 'qaq-models-v1';
/** Cache Storage keys must be http(s) URLs; this path is never fetched from the network. */
const keyPrefix = '/qaq-model-store/';

/**
 * GGUF files in Cache Storage (it holds large binary responses, survives reloads, and the service worker and page
 * share it). One entry per file name; metadata rides in response headers.
 */
export class ModelStore {
  readonly #storage: CacheStorage;
  readonly #origin: string;

  constructor(storage: CacheStorage = globalThis.caches, origin: string = globalThis.location.origin) {
    if (storage === undefined) {
      throw new QaqError('storage-unavailable', 'Cache Storage is not available (it needs a secure context: https or localhost)', {
        details: { origin },
      });
    }
    this.#storage = storage;
    this.#origin = origin;
  }

  async list(): Promise<StoredModel[]> {
    const cache = await this.#storage.open(cacheName);
    const models: StoredModel[] = [];
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      if (response !== undefined) models.push(describe(request.url, response));
    }
    return models.sort((left, right) => left.name.localeCompare(right.name));
  }

  async has(name: string): Promise<boolean> {
    const cache = await this.#storage.open(cacheName);
    return (await cache.match(this.#key(name))) !== undefined;
  }

  /** The stored bytes, or null when nothing is stored under `name`. */
  async read(name: string): Promise<Uint8Array | null> {
    const cache = await this.#storage.open(cacheName);
    const response = await cache.match(this.#key(name));
    return response === undefined ? null : new Uint8Array(await response.arrayBuffer());
  }

  async write(name: string, bytes: Uint8Array, source: string): Promise<StoredModel> {
    const cache = await this.#storage.open(cacheName);
    const storedAt = new Date().toISOString();
    const headers = new Headers({
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.byteLength),
      'x-qaq-source': encodeURIComponent(source),
      'x-qaq-stored-at': storedAt,
    });
    // A copy into a fresh ArrayBuffer: the model may hold views of `bytes`, and Response takes ownership-free input.
    await cache.put(this.#key(name), new Response(new Blob([bytes.slice()]), { headers }));
    return { name, sizeBytes: bytes.byteLength, source, storedAt };
  }

  async delete(name: string): Promise<boolean> {
    const cache = await this.#storage.open(cacheName);
    return cache.delete(this.#key(name));
  }

  #key(name: string): string {
    return `${this.#origin}${keyPrefix}${encodeURIComponent(name)}`;
  }
}

function describe(url: string, response: Response): StoredModel {
  const path = new URL(url).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  return {
    name,
    sizeBytes: Number(response.headers.get('content-length') ?? 0),
    source: decodeURIComponent(response.headers.get('x-qaq-source') ?? ''),
    storedAt: response.headers.get('x-qaq-stored-at') ?? '',
  };
}

/** How much this origin stores and may store (`navigator.storage.estimate`), or null where unsupported. */
export async function storageEstimate(): Promise<{ usageBytes: number; quotaBytes: number; persisted: boolean } | null> {
  const storage = globalThis.navigator?.storage;
  if (storage?.estimate === undefined) return null;
  const estimate = await storage.estimate();
  const persisted = storage.persisted === undefined ? false : await storage.persisted();
  return { usageBytes: estimate.usage ?? 0, quotaBytes: estimate.quota ?? 0, persisted };
}

/** Asks the browser not to evict stored models under storage pressure (it may say no). */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  return storage?.persist === undefined ? false : storage.persist();
}
