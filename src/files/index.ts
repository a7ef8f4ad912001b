/** The I/O edge of the library: definition files, output files, and the installed package's own files. */
export { checkDefinitionText, loadDefinitionFile, type LoadedDefinition } from './definitions.js';
export {
  readDefinitionSource,
  definitionFilesIn,
  definitionsIn,
  folderReader,
  mayDeclare,
  type FolderDefinitions,
} from './source.js';
export {
  writeOutputFile,
  outputWriter,
  parseOutputRoot,
  resolveOutputPath,
  OUTPUT_OUTSIDE_ROOT,
  type OutputWriter,
} from './output.js';
export { findChildDefinition } from './children.js';
export { packageRoot } from '../install/index.js';
export { bundledDefaults } from './bundled-paths.js';
export { parseYaml, stringifyYaml } from './yaml.js';
