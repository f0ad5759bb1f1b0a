import { float32ToFloat16Bits, float16BitsToFloat32, roundDownToFloat16, roundUpToFloat16 } from '../src/index.js';
const N = 1 << 20;
const xs = new Float64Array(N).map((_, i) => Math.sin(i) * 3);
const cpu = (name: string, f: () => number) => { const s = process.cpuUsage(); const r = f(); const e = process.cpuUsage(s); console.log(name, ((e.user + e.system) * 1000 / N).toFixed(2), 'ns', r); };
for (let r = 0; r < 3; r++) {
  cpu('f2h', () => { let a = 0; for (let i = 0; i < N; i++) a += float32ToFloat16Bits(xs[i]!); return a; });
  cpu('h2f', () => { let a = 0; for (let i = 0; i < N; i++) a += float16BitsToFloat32(i & 0x7bff); return a; });
  cpu('down', () => { let a = 0; for (let i = 0; i < N; i++) a += roundDownToFloat16(xs[i]!); return a; });
  cpu('up', () => { let a = 0; for (let i = 0; i < N; i++) a += roundUpToFloat16(xs[i]!); return a; });
}
