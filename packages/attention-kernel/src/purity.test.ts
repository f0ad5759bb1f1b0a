import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The library must run in browsers: no Node or DOM APIs outside tests.
describe('package purity', () => {
  it('library sources use no Node or DOM runtime APIs', () => {
    const directory = fileURLToPath(new URL('./', import.meta.url));
    const sources = readdirSync(directory).filter((name) => name.endsWith('.ts') && !/\.test(-utils)?\.ts$/.test(name));
    expect(sources.length).toBeGreaterThan(5);
    for (const name of sources) {
      const text = readFileSync(directory + name, 'utf8');
      expect(text, name).not.toMatch(/from 'node:|\bprocess\.|\bBuffer\b|\bwindow\.|\bdocument\.|\brequire\(['"]/);
    }
  });

  it('Node-only code stays in src/node, reached only through the ./node-threads export', () => {
    const directory = fileURLToPath(new URL('./', import.meta.url));
    // Tests and their utilities (left out of the build, tsconfig.build.json) may start Node workers.
    for (const name of readdirSync(directory).filter((entry) => entry.endsWith('.ts') && !/\.test(-utils)?\.ts$/.test(entry))) {
      expect(readFileSync(directory + name, 'utf8'), name).not.toMatch(/from '\.\/node\//);
    }
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { exports: Record<string, { source: string }> };
    expect(manifest.exports['.']?.source).toBe('./src/index.ts');
    expect(manifest.exports['./node-threads']?.source).toBe('./src/node/node-threads.ts');
  });
});
