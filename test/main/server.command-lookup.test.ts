// Tests finding a command by its name's bytes: the same spec as the table's lower-case name in
// any ASCII case, and none for any other name, whatever was looked up before.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandLookup } from '../../dist/main/server/command-lookup.js';
import { createCommandTable } from '../../dist/main/server/commands/command-table.js';

const table = createCommandTable();
const lookup = new CommandLookup(table);
const names = [...table.keys()];

/** `name` with each letter's case drawn from `upper`. */
function recase(name: string, upper: readonly boolean[]): string {
  return [...name].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c)).join('');
}

describe('CommandLookup', () => {
  it('finds every command of the table in any case (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        (name, upper) => {
          expect(lookup.find(Buffer.from(recase(name, upper), 'latin1'))).toBe(table.get(name));
        },
      ),
    );
  });

  it('finds nothing for a name the table does not hold (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const name = Buffer.from(bytes);
        expect(lookup.find(name)).toBe(table.get(name.toString('latin1').toLowerCase()));
      }),
    );
    expect(lookup.find(Buffer.alloc(0))).toBeUndefined();
    expect(lookup.find(Buffer.from('gex'))).toBeUndefined(); // same length and first letter as GET
    expect(lookup.find(Buffer.from('ge'))).toBeUndefined();
    expect(lookup.find(Buffer.from('gets'))).toBeUndefined();
    // Only ASCII letters fold: a latin1 letter is not its ASCII look-alike.
    expect(lookup.find(Buffer.from([0x67, 0x65, 0xd4]))).toBeUndefined();
  });

  it('answers each lookup of a sequence by its own name, whatever it found before (property)', () => {
    const fresh = new CommandLookup(table);
    // A name with the last byte changed has the same length and first letter as the command.
    const nearMiss = fc.constantFrom(...names).map((name) => `${name.slice(0, -1)}#`);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...names), nearMiss), { maxLength: 20 }),
        (sequence) => {
          for (const name of sequence)
            expect(fresh.find(Buffer.from(name, 'latin1'))).toBe(table.get(name));
        },
      ),
    );
    expect(fresh.find(Buffer.from('GET'))).toBe(table.get('get'));
    expect(fresh.find(Buffer.from('gex'))).toBeUndefined(); // GET's length and first letter
    expect(fresh.find(Buffer.from('gEt'))).toBe(table.get('get'));
  });
});
