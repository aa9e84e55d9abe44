import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../renderer/src/pages/pack/formatBytes';

describe('formatBytes', () => {
  it('says bytes in the unit people read', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150.0 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.50 GiB');
  });
});
