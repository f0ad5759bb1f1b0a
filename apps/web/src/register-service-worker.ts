/** Replaced at build time (vite.config.ts `define`): true in `vite build`, false under `vite dev`. */
declare const __QAQ_SERVICE_WORKER__: boolean;

/**
 * Registers the service worker the build emits (`sw.js`, plugins/service-worker.ts): it precaches the app,
 * onnxruntime-web's files and itself, so the page works offline once loaded; models live in Cache Storage.
 * Not in `vite dev`, where files change under it.
 */
export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!__QAQ_SERVICE_WORKER__ || !('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(new URL('sw.js', document.baseURI).href, { scope: './' });
  } catch (error) {
    console.warn('service worker not registered: the app still works, but not offline', error);
    return null;
  }
}
