import { checkEqual, checkSameList } from '../assertions.js';
import { type ConformanceCheck, outputData } from '../check.js';

export const dataTypeChecks: ConformanceCheck[] = [
  {
    id: 'round-trip-data-types',
    title: 'uint8, int32, int64 and float16 tensors go through Identity bit for bit',
    fixtures: ['roundTrip'],
    dataTypes: ['uint8', 'int32', 'int64', 'float16'],
    async run({ backend, openSession }) {
      const session = await openSession('roundTrip');
      const bytes = new Uint8Array([0, 1, 127, 128, 254, 255]);
      const integers = new Int32Array([-2147483648, -1, 0, 1, 65536, 2147483647]);
      const longs = new BigInt64Array([-(2n ** 63n), -(2n ** 53n) - 1n, -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]);
      // 1, -0, smallest subnormal, largest finite, +infinity, 1/3 rounded
      const halves = new Uint16Array([0x3c00, 0x8000, 0x0001, 0x7bff, 0x7c00, 0x3555]);
      const outputs = await session.run({
        bytes_in: backend.createTensor('uint8', bytes, [6]),
        integers_in: backend.createTensor('int32', integers, [6]),
        longs_in: backend.createTensor('int64', longs, [6]),
        halves_in: backend.createTensor('float16', halves, [6]),
      });
      const expectations = [
        ['bytes_out', 'uint8', bytes],
        ['integers_out', 'int32', integers],
        ['longs_out', 'int64', longs],
        ['halves_out', 'float16', halves],
      ] as const;
      for (const [name, dataType, expected] of expectations) {
        checkEqual(outputs[name]?.dataType, dataType, `${name} dataType`);
        checkSameList(outputs[name]?.dimensions ?? [], [6], `${name} dimensions`);
        checkSameList(await outputData(outputs, name), expected, name);
      }
    },
  },
];
