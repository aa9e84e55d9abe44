import { describe, expect, it } from 'vitest';
import { cString } from '../../electron/core/firmware/configHeader';

describe('config.h generation', () => {
  it('escapes quotes, backslashes, trigraph marks and non-ASCII bytes', () => {
    expect(cString('plain')).toBe('"plain"');
    expect(cString('a"b\\c')).toBe('"a\\042b\\134c"');
    expect(cString('??=')).toBe('"\\077\\077="');
    expect(cString('é')).toBe('"\\303\\251"');
    expect(cString('x\ny')).toBe('"x\\012y"');
  });
});
