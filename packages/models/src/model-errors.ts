/** Stable `QaqError` codes thrown by @qaq/models. */
export const modelErrorCodes = Object.freeze({
  unknownModel: 'unknown-model',
  pipMissing: 'pip-missing',
  downloadFailed: 'download-failed',
  checksumMismatch: 'checksum-mismatch',
  notGguf: 'not-gguf',
  urlNotHttps: 'url-not-https',
  modelFileMissing: 'model-file-missing',
  modelNotCached: 'model-not-cached',
  invalidZip: 'invalid-zip',
  zipEntryMissing: 'zip-entry-missing',
  aborted: 'aborted',
} as const);

export type ModelErrorCode = (typeof modelErrorCodes)[keyof typeof modelErrorCodes];
