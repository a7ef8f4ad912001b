/**
 * `${...}` references, templates and conditions. This file is the module's only import surface; everything here is pure
 * (no eval, no I/O).
 */
export { type Ref, findRefs, collectRefs, refText, SECRET_NAME_PATTERN } from './refs.js';
export { type Scope, type ScopeEvent, type SecretSite, resolveTemplate } from './resolve.js';
export { type CompiledCondition, parseCondition, conditionRefs } from './condition.js';
export { evaluateCondition, evaluateExpression, canonicalJson } from './evaluate.js';
export { installPayloadResolver, readPayload, type PayloadResolver } from './payloads.js';
