export { createJsBackend } from './js-backend.js';
