// What the Stack page says about a service's state.
import type { StackServiceView } from '../../../../electron/contract/stack';

/** A service the chosen profile does not start reads so, rather than "missing" as if something broke. */
export function serviceState(service: StackServiceView, profile: 'core' | 'full'): { key: string; label: string } {
  const shown = service.health ?? service.state;
  const inProfile = !service.profiles?.length || service.profiles.includes(profile);
  if (shown === 'missing' && !inProfile) return { key: 'not-started', label: 'not started (full profile)' };
  return { key: shown, label: shown };
}
