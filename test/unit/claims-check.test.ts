/**
 * The authorizer checks a token's claims with a validator compiled from ClaimsSchema, not with the zod
 * schema the API functions use (docs/adr/0059). Both must read every payload alike, or a token one
 * refuses would pass the other.
 */
import fc from 'fast-check';
import { ClaimsSchema } from '../../functions/core/claims';
import { checkClaims } from '../../functions/http/claims-check';

const claims = {
  sub: 'u7',
  name: 'Dr Grace Hopper',
  org: 'RYY02',
  role: 'clinician',
  activities: ['B0107', 'B0170'],
  setting: 'emergency-department',
  roleName: 'Staff Nurse',
  orgName: 'Example Hospitals NHS Trust',
  // Claims the schema does not name pass through a token untouched, and are left out of what is read.
  iss: 'https://auth.example.org',
  exp: 1_900_000_000,
};

const anyValue = fc.oneof(
  fc.constantFrom(
    '',
    'x',
    'x'.repeat(100),
    'x'.repeat(101),
    'x'.repeat(200),
    'x'.repeat(201),
    '\u{1F600}'.repeat(100),
    'RYY02',
    'ryy02',
    'E0900000112',
    'council',
    'admin',
    'B0107',
    'b0107',
    'B01070',
    null,
    0,
    true,
    [],
    ['B0107'],
    Array.from({ length: 20 }, () => 'B0107'),
    Array.from({ length: 21 }, () => 'B0107'),
    ['B0107', 'nope'],
    {},
  ),
  fc.string({ maxLength: 12 }),
  fc.anything({ maxDepth: 2 }),
);

const payload = fc
  .record(
    Object.fromEntries(
      Object.entries(claims).map(([key, value]) => [
        key,
        fc.oneof({ weight: 20, arbitrary: fc.constant(value) }, anyValue, fc.constant(undefined)),
      ]),
    ),
  )
  .map((fields) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)));

describe("the authorizer's claims check", () => {
  it('accepts what ClaimsSchema accepts, and reads it as ClaimsSchema does', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: payload }, fc.anything({ maxDepth: 3 })), (value) => {
        const expected = ClaimsSchema.safeParse(value);
        expect(checkClaims(value)).toEqual(expected.success ? expected.data : undefined);
        if (expected.success) accepted++;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('gives a token without permission codes none, and leaves out what the schema does not name', () => {
    const { activities: _, setting: __, ...bare } = claims;
    expect(checkClaims(bare)).toEqual({
      sub: 'u7',
      name: 'Dr Grace Hopper',
      org: 'RYY02',
      role: 'clinician',
      activities: [],
      roleName: 'Staff Nurse',
      orgName: 'Example Hospitals NHS Trust',
    });
    expect(checkClaims({ ...claims, role: 'admin' })).toBeUndefined();
    expect(checkClaims({ ...claims, activities: ['B0107', 'b0107'] })).toBeUndefined();
  });
});
