/** Importing workflow definitions written for other engines. The module's only import surface. */
export { importConductor, httpTaskSupported, ConductorTooDeepError, type TooDeepAt, type ConductorFileImport, type ImportedDefinition, type ImportOptions, type Refusal } from './conductor/index.js';
