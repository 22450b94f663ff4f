import { newId, pooledRandom } from '../../functions/store/ids';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('ids', () => {
  it('are valid ULIDs, unique and in the order they were made, many to a millisecond', () => {
    const ids = Array.from({ length: 5_000 }, () => newId());
    expect(ids.every((id) => ULID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draw a fresh random part for each new millisecond', () => {
    const start = Date.now();
    const ids = Array.from({ length: 1_000 }, (_, i) => newId(start + i));
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(ids.length);
  });

  it('take their random characters evenly from fresh pools of random bytes', () => {
    const draws = (n: number) => Array.from({ length: n }, () => pooledRandom());
    const first = draws(4096);
    const second = draws(4096);
    const third = draws(4096);
    expect(second).not.toEqual(first);
    expect(third).not.toEqual(second);
    const all = [...first, ...second, ...third];
    expect(all.every((value) => value >= 0 && value < 1)).toBe(true);
    const perCharacter = new Map<number, number>();
    for (const value of all) {
      const character = Math.floor(value * 32);
      perCharacter.set(character, (perCharacter.get(character) ?? 0) + 1);
    }
    expect(perCharacter.size).toBe(32);
    const expected = all.length / 32;
    for (const count of perCharacter.values()) {
      expect(count).toBeGreaterThan(expected * 0.7);
      expect(count).toBeLessThan(expected * 1.3);
    }
  });
});
