import { build } from 'esbuild';

export interface BrowserBundleOptions {
  /** The page's entry module (TypeScript is fine). */
  readonly entry: string;
  /** The bundle to write (one ES module). */
  readonly outfile: string;
  /** Imports left to the page's import map, e.g. ['onnxruntime-web/webgpu'] served from its dist/ folder. */
  readonly external?: readonly string[];
}

/**
 * Bundles a test page for the browser with esbuild: workspace packages from source (the 'source' condition, as
 * tests and apps run them), browser builds of dependencies, ES2022, one module with an inline source map.
 */
export async function bundleForBrowser(options: BrowserBundleOptions): Promise<void> {
  await build({
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser', 'import', 'module'],
    external: [...(options.external ?? [])],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
