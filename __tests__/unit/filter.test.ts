import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/common/checks';
import { filterShapeProblem, isEmptyFilter, matchesFilter } from '../../src/common/filter';

// The trigger's filter: NocoBase's filter JSON over $context, evaluated in memory.
describe('matchesFilter', () => {
  const context = {
    data: { action: 'opened', count: 3, labels: ['bug', 'ui'], nested: { id: 'x-1' }, empty: '' },
    headers: { 'x-github-event': 'issues', 'content-type': 'application/json' },
    query: { n: '5' },
  };
  it.each([
    [{ 'headers.x-github-event': { $eq: 'issues' } }, true],
    [{ 'headers.x-github-event': 'issues' }, true],
    [{ headers: { 'x-github-event': { $ne: 'push' } } }, true],
    [{ 'data.action': { $in: ['opened', 'reopened'] } }, true],
    [{ 'data.action': { $notIn: ['opened'] } }, false],
    [{ 'data.labels': { $includes: 'bug' } }, true],
    [{ 'data.labels': { $notIncludes: 'bug' } }, false],
    [{ 'data.nested.id': { $startsWith: 'x-' } }, true],
    [{ 'data.count': { $gt: 2, $lte: 3 } }, true],
    [{ 'query.n': { $gte: 5 } }, true],
    [{ 'query.n': 5 }, true],
    [{ 'data.missing': { $exists: false } }, true],
    [{ 'data.missing': { $notExists: true } }, true],
    [{ 'data.empty': { $empty: true } }, true],
    [{ 'data.action': { $notEmpty: true } }, true],
    [{ $or: [{ 'data.action': 'closed' }, { 'data.count': { $lt: 5 } }] }, true],
    [{ $and: [{ 'data.action': 'opened' }, { 'headers.x-github-event': 'push' }] }, false],
    [{ 'data.constructor': { $exists: true } }, false],
    [{ 'data.action': { $unknown: 1 } }, false],
  ])('%j -> %s', (filter, expected) => {
    expect(matchesFilter(filter as any, context)).toBe(expected);
  });
  it('an empty filter passes everything', () => {
    expect(matchesFilter({}, context)).toBe(true);
    expect(matchesFilter({ $and: [] }, context)).toBe(true);
    expect(isEmptyFilter({ $and: [] })).toBe(true);
    expect(isEmptyFilter({ $and: [{ a: 1 }] })).toBe(false);
  });
  it('names what is wrong with a malformed filter', () => {
    expect(filterShapeProblem({ a: { $eq: 1 } })).toBeNull();
    const text = (filter: unknown) => {
      const problem = filterShapeProblem(filter);
      return problem ? formatProblem(problem) : null;
    };
    expect(text({ a: { $regex: 'x' } })).toBe('unknown operator $regex');
    expect(text({ $and: { a: 1 } })).toBe('$and must be a list of conditions');
    expect(text({ $where: 'x' })).toBe('unknown operator $where');
    expect(text('x')).toBe('not an object');
  });
});
