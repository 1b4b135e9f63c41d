import test, { type ExecutionContext } from 'ava';
import { stickyAssign, type MemberClaim } from './sticky-assigner.ts';

const twelve = Array.from({ length: 12 }, (_, p) => p);
const asObject = (m: Map<string, number[]>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

function moved(before: readonly MemberClaim[], after: Map<string, number[]>): number {
  let n = 0;
  for (const m of before) for (const p of m.owned) if (!(after.get(m.memberId) ?? []).includes(p)) n++;
  return n;
}

/** Every partition exactly once, and member sizes differ by at most one. */
function assertBalanced(t: ExecutionContext, a: Map<string, number[]>, partitions: readonly number[]): void {
  t.deepEqual([...a.values()].flat().sort((x, y) => x - y), [...partitions], 'every partition once');
  const sizes = [...a.values()].map((l) => l.length);
  t.true(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes.join(', ')}`);
}

test('a first join spreads the partitions evenly', (t) => {
  const a = stickyAssign([{ memberId: 'a', owned: [] }, { memberId: 'b', owned: [] }], twelve);
  assertBalanced(t, a, twelve);
});

test('an unchanged group keeps every partition where it is', (t) => {
  const claims = [{ memberId: 'a', owned: [0, 3, 5, 7, 9, 11] }, { memberId: 'b', owned: [1, 2, 4, 6, 8, 10] }];
  const a = stickyAssign(claims, twelve);
  t.deepEqual(asObject(a), { a: [0, 3, 5, 7, 9, 11], b: [1, 2, 4, 6, 8, 10] });
  t.is(moved(claims, a), 0);
});

test('a member gone: its partitions go to the others and nothing else moves', (t) => {
  const claims = [{ memberId: 'a', owned: [0, 1, 2, 3] }, { memberId: 'c', owned: [8, 9, 10, 11] }];
  const a = stickyAssign(claims, twelve);
  t.is(moved(claims, a), 0);
  assertBalanced(t, a, twelve);
});

test('a newcomer takes only its share, from the member that holds too many', (t) => {
  const claims = [{ memberId: 'a', owned: twelve }, { memberId: 'b', owned: [] }];
  const a = stickyAssign(claims, twelve);
  assertBalanced(t, a, twelve);
  t.is(moved(claims, a), 6, 'exactly the newcomer\'s share moves');
});

test('an uneven count gives the extra partitions to the members holding most, so fewer move', (t) => {
  const claims = [{ memberId: 'a', owned: [0, 1, 2, 3, 4] }, { memberId: 'b', owned: [5, 6] }, { memberId: 'c', owned: [] }];
  const a = stickyAssign(claims, [0, 1, 2, 3, 4, 5, 6]);
  t.deepEqual(asObject(a), { a: [0, 1, 2], b: [5, 6], c: [3, 4] });
});

test('a partition claimed twice (an evicted member still believes it holds its share) is treated as free', (t) => {
  const a = stickyAssign([{ memberId: 'zombie', owned: [0, 1, 2, 3, 4, 5] }, { memberId: 'b', owned: twelve }], twelve);
  assertBalanced(t, a, twelve);
  t.deepEqual(a.get('b'), [6, 7, 8, 9, 10, 11], 'b keeps what only it claims');
});

test('claims of partitions that do not exist are ignored; no member, no assignment', (t) => {
  const a = stickyAssign([{ memberId: 'a', owned: [0, 40] }], [0, 1]);
  t.deepEqual(asObject(a), { a: [0, 1] });
  t.is(stickyAssign([], twelve).size, 0);
});

test('the same input gives the same assignment whatever the order of the members', (t) => {
  const claims = [{ memberId: 'x', owned: [3] }, { memberId: 'y', owned: [] }, { memberId: 'z', owned: [7, 8] }];
  t.deepEqual(asObject(stickyAssign(claims, twelve)), asObject(stickyAssign([...claims].reverse(), twelve)));
});
