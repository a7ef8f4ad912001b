/** Importing workflow definitions written for other engines. The module's only import surface. */
export {
  importConductor,
  httpTaskSupported,
  ConductorTooDeepError,
  type ConductorFileImport,
} from './conductor/index.js';
