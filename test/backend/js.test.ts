/** Runs the backend conformance suite on the pure-TypeScript reference backend. */
import { createJsBackend } from '../../src/backend/js/index.js';
import { runBackendConformance } from './conformance.js';

runBackendConformance('js', createJsBackend);
