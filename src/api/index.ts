/** The I/O edge of the library: definition files, output files, and the installed package's own files. */
export { loadDefinitionFile, readDefinitionSource, type LoadedDefinition } from './definitions.js';
export { writeOutputFile, outputWriter, parseOutputRoot, resolveOutputPath, OUTPUT_OUTSIDE_ROOT, type OutputWriter } from './output.js';
export { findChildDefinition, definitionsIn, namesAFile, type FoundChild } from './children.js';
export { packageRoot, packageVersion } from './package.js';
