import assert from 'node:assert/strict';
import { AlignkitError } from '../../src/errors.ts';

/** Asserts that `fn` throws an AlignkitError whose message names `file` and matches `pattern`. */
export function assertNamedError(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AlignkitError, `expected AlignkitError, got ${e}`);
    assert.ok(e.message.includes(file), `message does not name ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}
