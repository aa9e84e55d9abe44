import type { SeatState, StationPhase } from '../../../../electron/contract/lab';

/** Each state with a colour, an icon and a word: the colour is never the only clue. */
const SEAT_LOOK: Record<SeatState, { icon: string; text: string }> = {
  free: { icon: '○', text: 'free' },
  flashing: { icon: '⇪', text: 'flashing' },
  flashed: { icon: '◐', text: 'flashed' },
  online: { icon: '✔', text: 'online' },
  silent: { icon: '…', text: 'silent' },
  failed: { icon: '✘', text: 'failed' },
};

const PHASE_LOOK: Record<StationPhase, { icon: string; tone: SeatState }> = {
  detected: { icon: '⊕', tone: 'flashing' },
  release: { icon: '✎', tone: 'flashing' },
  write: { icon: '⇪', tone: 'flashing' },
  boot: { icon: '↻', tone: 'flashing' },
  waiting: { icon: '◐', tone: 'flashed' },
  online: { icon: '✔', tone: 'online' },
  silent: { icon: '…', tone: 'silent' },
  failed: { icon: '✘', tone: 'failed' },
  unplugged: { icon: '⏏', tone: 'failed' },
};

/** A seat's state as a badge: colour + icon + text. */
export function SeatBadge({ state }: { state: SeatState }) {
  const look = SEAT_LOOK[state];
  return (
    <span className={`seat-badge seat-${state}`} data-state={state}>
      <span aria-hidden="true">{look.icon}</span> {look.text}
    </span>
  );
}

/** A station port's phase as a badge, in the colour of the seat state it leads to. */
export function PhaseBadge({ phase }: { phase: StationPhase }) {
  const look = PHASE_LOOK[phase];
  return (
    <span className={`seat-badge seat-${look.tone}`} data-phase={phase}>
      <span aria-hidden="true">{look.icon}</span> {phase}
    </span>
  );
}
