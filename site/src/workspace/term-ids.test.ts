import { describe, expect, it } from 'vitest';
import { nodeOf, numberOf, onOtherNode, termId, termLabel } from './term-ids.ts';

describe('terminal ids', () => {
  it('keep t1, t2... on node1 and name the other nodes', () => {
    expect(termId('node1', 3)).toBe('t3');
    expect(termId('node2', 1)).toBe('node2-1');
    expect(nodeOf('t3')).toBe('node1');
    expect(nodeOf('node2-1')).toBe('node2');
    expect(numberOf('t12')).toBe(12);
    expect(numberOf('node5-2')).toBe(2);
    expect(onOtherNode('t1')).toBe(false);
    expect(onOtherNode('node3-1')).toBe(true);
  });

  it('are labelled by number alone, or by node and number once there are several', () => {
    expect(termLabel('t2', false)).toBe('Terminal 2');
    expect(termLabel('t2', true)).toBe('node1 · 2');
    expect(termLabel('node2-1', false)).toBe('node2 · 1');
    expect(termLabel('node2-1', true)).toBe('node2 · 1');
  });
});
