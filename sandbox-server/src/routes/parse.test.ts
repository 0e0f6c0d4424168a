import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { signUpBody } from '../identity/accounts.ts';
import { parse } from './sessions.ts';

describe('parse', () => {
  it('names each wrong field, in the detail and in fields, so a form can show it beside the field', () => {
    let error: ApiError | undefined;
    try {
      parse(signUpBody, { username: 'two words', password: 'long enough', email: 'nope' });
    } catch (e) {
      error = e as ApiError;
    }
    expect(error?.toBody().error).toMatchObject({
      code: 'BAD_REQUEST',
      detail: expect.stringContaining('username: Use only letters, digits, dots, dashes and underscores'),
      fields: {
        username: 'Use only letters, digits, dots, dashes and underscores: no spaces.',
        email: 'Not an email address: one looks like name@example.org.',
      },
    });
  });
});
