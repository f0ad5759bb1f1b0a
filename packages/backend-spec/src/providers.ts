/**
 * An execution provider name. The common ones are listed; backends may accept others (e.g. 'tensorrt', 'coreml')
 * and must reject names they do not know with QaqError('provider-unavailable').
 */
export type ExecutionProviderName = 'cpu' | 'cuda' | 'webgpu' | 'wasm' | (string & {});

/** Why a provider cannot be used on this machine. */
export type ProviderUnavailableReason =
  /** A shared library is missing or cannot be loaded (e.g. libonnxruntime_providers_cuda.so, libcudnn.so.9). */
  | 'missing-library'
  /** A driver is missing (e.g. libcuda.so.1, libvulkan.so.1). */
  | 'missing-driver'
  /** The driver is there but offers no usable device (e.g. "Failed to get a WebGPU adapter"). */
  | 'missing-adapter'
  /** This backend build does not include the provider at all. */
  | 'not-supported'
  /** The probe itself failed in a way not covered above; see `details`. */
  | 'probe-failed';

/** What `Backend.probe()` found out about one provider. */
export type ExecutionProviderProbe =
  | { readonly name: ExecutionProviderName; readonly available: true; readonly details?: string }
  | {
      readonly name: ExecutionProviderName;
      readonly available: false;
      readonly reason: ProviderUnavailableReason;
      /** The libraries, drivers or devices found missing, by name, e.g. ['libcudnn.so.9']. */
      readonly missing: readonly string[];
      /** A sentence for people: what was tried and what to install. */
      readonly details: string;
    };
