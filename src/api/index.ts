/** The I/O edge of the library: definition files and output files. */
export { loadDefinitionFile, type LoadedDefinition } from './definitions.js';
export { writeOutputFile } from './output.js';
