/**
 * `${...}` references, templates and conditions. This file is the module's
 * only import surface; everything here is pure (no eval, no I/O).
 */
export { type Ref, type RefOccurrence, findRefs, collectRefs, refText, SECRET_NAME_PATTERN } from './refs.js';
export { type Scope, type ScopeEvent, type SecretPart, type SecretSite, resolveTemplate, resolveRef } from './resolve.js';
export { type CompiledCondition, parseCondition, conditionRefs } from './condition.js';
export { evaluateCondition, evaluateExpression, looseEquals, canonicalJson } from './evaluate.js';
