// Engine events: parsed from `docker events`, and the grader's own helper containers told apart,
// network events included (they name the network and give the container only by id).
import { describe, expect, it } from 'vitest';
import { graderTracker, isOwnLooking, parseEvent, type EngineEvent } from './engine-events.ts';

const line = (...fields: string[]) => fields.join('\t');
const ev = (...fields: string[]) => parseEvent(line(...fields))!;

describe('engine events', () => {
  it('parse tab-separated fields, actions with arguments and missing values', () => {
    expect(ev('container', 'start', 'abc', '<no value>', 'web')).toEqual({
      type: 'container',
      action: 'start',
      id: 'abc',
      container: '',
      name: 'web',
    });
    expect(ev('container', 'exec_start: sh -c echo hi', 'abc', '<no value>', 'web').action).toBe('exec_start');
    expect(parseEvent('')).toBeUndefined();
  });

  it("mark the grader's helper containers and their network events as its own looking", () => {
    const mark = graderTracker();
    const seen: EngineEvent[] = [
      ev('container', 'create', 'g1', '<no value>', 'dockyard-grader-x1'),
      ev('network', 'connect', 'n1', 'g1', 'bridge'),
      ev('network', 'connect', 'n1', 'learner1', 'bridge'),
      ev('container', 'destroy', 'g1', '<no value>', 'dockyard-grader-x1'),
      ev('network', 'disconnect', 'n1', 'g1', 'bridge'),
    ].map(mark);
    expect(seen.map(isOwnLooking)).toEqual([true, true, false, true, false]);
  });
});
