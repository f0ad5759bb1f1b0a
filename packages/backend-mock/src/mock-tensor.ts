import type { TensorDataType } from '@qaq/backend-spec';
import { HostTensor } from '@qaq/backend-common';

/** A CPU tensor over a typed array, which it keeps as is (no copy). */
export class MockTensor<T extends TensorDataType = TensorDataType> extends HostTensor<T> {}
