/**
 * Module resolve hooks (registered by self-resolve.ts with module.register): a bare `import … from 'ledgerflow'` that
 * the importing project cannot resolve (ledgerflow is installed globally, or run from a clone) resolves to the running
 * ledgerflow. Anything the project resolves itself is left as it is: a project's own install wins.
 */
let target: string | null = null;

export function initialize(data: { url?: string } | undefined): void {
  target = data?.url ?? null;
}

interface ResolveContext {
  conditions?: string[];
  importAttributes?: Record<string, string>;
  parentURL?: string;
}
type NextResolve = (
  specifier: string,
  context: ResolveContext,
) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (specifier === 'ledgerflow' && target && (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      return { url: target, format: 'module', shortCircuit: true };
    throw err;
  }
}
