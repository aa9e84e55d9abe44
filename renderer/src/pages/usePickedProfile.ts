import { useEffect, useRef, useState } from 'react';
import type { ProfileView } from '../../../electron/contract/profiles';
import { api } from '../api/client';

/**
 * The profiles, listed once, and the one picked: the first until the user picks another. A listing
 * that fails is reported through `onError` (read when it fails, so a new callback never lists again).
 */
export function usePickedProfile(
  onError: (message: string) => void,
): [profiles: ProfileView[], picked: string, pick: (id: string) => void] {
  const [profiles, setProfiles] = useState<ProfileView[]>([]);
  const [picked, pick] = useState('');
  const report = useRef(onError);
  report.current = onError;
  useEffect(() => {
    api()
      .call('profiles.list', {})
      .then(
        (list) => {
          setProfiles(list);
          pick((current) => current || list[0]?.id || '');
        },
        (e: Error) => report.current(e.message),
      );
  }, []);
  return [profiles, picked, pick];
}
