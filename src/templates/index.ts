/**
 * The template library (docs/library.md, "The template library"): the catalogue of bundled workflows
 * (`definitions/catalog/templates.yaml`, validated with zod) and the copy of one into a user's project (`ledgerflow
 * new`), from this package or from a folder, tarball or npm package of templates in the same layout (source.ts). An
 * edge: it reads and writes files. The CLI is a thin layer over `loadCatalog`, `planCopy` and `copyTemplate`.
 *
 * Copy rules:
 * - every file keeps its path relative to the package root (definitions/…, events/…), so the copy runs from the target
 *   directory as the original runs from a clone (`ledgerflow run definitions/x.yaml`, `ledgerflow emit`);
 * - with `--id X` the workflow is renamed: its definition file becomes `X.yaml` (its expectations file too), each
 *   sub-workflow S becomes `X-S` (file and id, and every reference to it), and the handler modules move to
 *   `handlers/X/` (the `handlers:` lines follow), so two copies of one template live side by side in one project;
 * - the files a template owns (definitions, expectations) must not exist; shared files (handlers, samples, events,
 *   scripts) may exist only with the same content (then they are left as they are); anything else is a collision: exit
 *   2 and nothing written;
 * - the copy is validated in a staging directory before anything is written to the target.
 */
export { CATALOG_PATH, isTemplateSource, openTemplateSource } from './source.js';
export { Catalog, entryFiles, findTemplate, loadCatalog, TemplateEntry } from './catalog.js';
export { copyTemplate } from './copy.js';
