/**
 * The codes of the QaqErrors a backend throws. `details` carries the offending values:
 * - provider-unavailable: { requested, probes } no requested provider can run here (names what is missing)
 * - invalid-option: { option, value } a session or run option is malformed
 * - invalid-model: { reason } the bytes are not a model this backend can load
 * - invalid-tensor: { dataType, dimensions, length } createTensor got data that does not match
 * - invalid-feed: { name, reason, expected, actual } a feed is unknown, missing, or of the wrong type or shape
 * - invalid-fetch: { name } a requested output does not exist
 * - invalid-output: { name, reason, expected, actual } a preallocated output has the wrong type or shape
 * - session-disposed: { } run (or anything else) after dispose()
 * - tensor-disposed: { } a disposed tensor was fed, read or written
 * - tensor-not-on-cpu: { location } CPU data asked of a device tensor
 * - unsupported-operator: { operator } the backend cannot evaluate an operator of the model
 * - run-failed: { reason } the runtime failed after validation passed
 */
export type BackendErrorCode =
  | 'provider-unavailable'
  | 'invalid-option'
  | 'invalid-model'
  | 'invalid-tensor'
  | 'invalid-feed'
  | 'invalid-fetch'
  | 'invalid-output'
  | 'session-disposed'
  | 'tensor-disposed'
  | 'tensor-not-on-cpu'
  | 'unsupported-operator'
  | 'run-failed';
