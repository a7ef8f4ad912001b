/** A draft's text: its version line read and set, and the text a new workflow starts from. Plain code, tested alone. */

const VERSION_LINE = /^(\s+version:\s*)(\d+)(.*)$/m;

/** The draft's `version:` (the first one under `workflow:`), or null when it has none. */
export function versionOf(yaml: string): number | null {
  const m = VERSION_LINE.exec(yaml);
  return m ? Number(m[2]) : null;
}

/** The draft with its `version:` set to `version` (added under `workflow:` when it has none). */
export function withVersion(yaml: string, version: number): string {
  if (VERSION_LINE.test(yaml))
    return yaml.replace(VERSION_LINE, (_, head: string, _v: string, tail: string) => `${head}${version}${tail}`);
  return yaml.replace(
    /^(workflow:\s*\n)(\s+)/m,
    (_, head: string, indent: string) => `${head}${indent}version: ${version}\n${indent}`,
  );
}

/** A blank draft: the least a definition needs. */
export function blankDraft(id = 'my-workflow', version = 1): string {
  return `workflow:\n  id: ${id}\n  version: ${version}\n  tasks:\n    - id: first\n      type: SIMPLE\n`;
}

/** Where a version's text is not kept (deployed as an object, or before texts were kept; or known only from its runs): what the editor starts with instead. */
export function unkeptDraft(id: string, version: number, next: number, source: string): string {
  return (
    `# ${id}@${version} is ${source === 'runs' ? 'known only from its runs' : 'deployed without its file'}: the server keeps it as parsed, not the file it came from.\n` +
    `# Paste that file here (or write the new version), with version: ${next}.\n${blankDraft(id, next)}`
  );
}
