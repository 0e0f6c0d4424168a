import { describe, expect, it } from 'vitest';
import { formatDay, formatLeft } from './format.ts';

describe('formatLeft', () => {
  it('says hours and minutes as people read them', () => {
    expect(formatLeft(2 * 3_600_000)).toBe('2 h');
    expect(formatLeft(3_600_000 + 5 * 60_000 + 59_000)).toBe('1 h 5 min');
    expect(formatLeft(45 * 60_000)).toBe('45 min');
    expect(formatLeft(30_000)).toBe('less than a minute');
    expect(formatLeft(-5)).toBe('less than a minute');
  });
});

describe('formatDay', () => {
  it('writes the month out, so 1 December is never read as 12 January', () => {
    expect(formatDay(Date.UTC(2026, 11, 1, 12))).toMatch(/December/);
  });
});
