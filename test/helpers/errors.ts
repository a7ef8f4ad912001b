import { ExpressionError } from '../../src/errors/index.js';

/** Runs `fn` and returns the ExpressionError it throws (any other outcome fails the test). */
export function thrown(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  throw new Error('expected an ExpressionError');
}
