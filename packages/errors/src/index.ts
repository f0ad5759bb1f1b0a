export { QaqError, isQaqError } from './qaq-error.js';
