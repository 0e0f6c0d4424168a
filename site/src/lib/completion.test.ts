import { describe, expect, it } from 'vitest';
import { passedText } from './completion.ts';

describe('passedText', () => {
  it('counts exercises passed, and says "all" once every one of several is', () => {
    expect(passedText(0, 3)).toBe('0 of 3 exercises passed');
    expect(passedText(2, 3)).toBe('2 of 3 exercises passed');
    expect(passedText(3, 3)).toBe('All 3 exercises passed');
    expect(passedText(0, 1)).toBe('0 of 1 exercise passed');
    expect(passedText(1, 1)).toBe('1 of 1 exercise passed');
  });
});
