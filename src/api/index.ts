/** The I/O edge of the library: definition files, output files, and the installed package's own files. */
export { loadDefinitionFile, type LoadedDefinition } from './definitions.js';
export { writeOutputFile } from './output.js';
export { packageRoot, packageVersion } from './package.js';
