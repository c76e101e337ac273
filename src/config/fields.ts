import { z } from 'zod';

/**
 * Field builders whose error messages name what was expected; the loader appends what it got.
 * Keeping the wording here means every command reports config problems the same way.
 */
export const posInt = () =>
  z
    .number({ error: 'expected a positive integer' })
    .int({ error: 'expected a positive integer' })
    .positive({ error: 'expected a positive integer' });
export const nonNegInt = () =>
  z
    .number({ error: 'expected an integer ≥ 0' })
    .int({ error: 'expected an integer ≥ 0' })
    .nonnegative({ error: 'expected an integer ≥ 0' });
export const posNumber = () =>
  z
    .number({ error: 'expected a positive number' })
    .positive({ error: 'expected a positive number' })
    .finite({ error: 'expected a positive number' });
export const nonNegNumber = () =>
  z
    .number({ error: 'expected a number ≥ 0' })
    .nonnegative({ error: 'expected a number ≥ 0' })
    .finite({ error: 'expected a number ≥ 0' });
export const fraction = () =>
  z
    .number({ error: 'expected a number in [0, 1)' })
    .min(0, { error: 'expected a number in [0, 1)' })
    .lt(1, { error: 'expected a number in [0, 1)' });
export const bool = () => z.boolean({ error: 'expected true or false' });
export const str = () => z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });
export const path = () => z.string({ error: 'expected a path' }).min(1, { error: 'expected a non-empty path' });
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.join(' | ')}` });
export const column = () => str().nullable();
