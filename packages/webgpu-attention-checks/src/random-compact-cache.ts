// The random compact caches the checks compare on: the same generator the Node tests use.
export { ALL_WIDTHS, normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
