import { describe, expect, it } from 'vitest';
import type { StackServiceView } from '../../electron/contract/stack';
import { serviceState } from '../../renderer/src/pages/stack/serviceState';

const service = (state: string, profiles?: string[], health?: string): StackServiceView => ({
  name: 'grafana',
  state,
  health,
  ports: [],
  links: [],
  profiles,
});

describe('the Stack page service state', () => {
  it('reads "not started (full profile)" for an optional service the core profile does not start', () => {
    expect(serviceState(service('missing', ['full']), 'core')).toEqual({
      key: 'not-started',
      label: 'not started (full profile)',
    });
  });

  it('still reads "missing" for a service the chosen profile should have started', () => {
    expect(serviceState(service('missing', ['full']), 'full').label).toBe('missing');
    expect(serviceState(service('missing', ['core', 'full']), 'core').label).toBe('missing');
    expect(serviceState(service('missing', []), 'core').label).toBe('missing'); // in every profile
  });

  it('shows health over state for a container that exists, whatever the profile', () => {
    expect(serviceState(service('running', ['full'], 'healthy'), 'core')).toEqual({ key: 'healthy', label: 'healthy' });
    expect(serviceState(service('exited', ['full']), 'core').label).toBe('exited');
  });
});
