export { startStaticServer, resolveRequestPath, type StaticServer, type StaticServerOptions } from './static-server.js';
export { contentTypeOf } from './mime-types.js';
export { chromiumArguments, chromiumAvailable, chromiumExecutablePath, launchChromium, type BrowserMode, type LaunchOptions } from './chromium.js';
export { captureConsole, type ConsoleCapture, type ConsoleEntry } from './console-capture.js';
export { runPageFunction, type PageFunctionOptions } from './page-function.js';
export { openBrowserPage, type BrowserPage } from './browser-page.js';
export { bundleForBrowser, type BrowserBundleOptions } from './bundle.js';
