// The single-thread kernel module (own, unshared memory): see attention.ts.
export { attend, scratchBytes, heapBase } from './attention';
