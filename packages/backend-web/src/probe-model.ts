// The probe model is shared by every onnxruntime backend.
export { probeModel } from '@qaq/backend-common';
