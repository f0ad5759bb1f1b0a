import { parseAppOptions } from './app-options.js';
import { startApp } from './app.js';
import { registerServiceWorker } from './register-service-worker.js';
import './styles.css';

const root = document.querySelector<HTMLElement>('#app');
if (root === null) throw new Error('index.html has no #app element');
void registerServiceWorker();
startApp(root, parseAppOptions(location.search));
