import { useCallback, useEffect, useRef, useState } from 'react';
import type { LabSummary, LabView, StationView } from '../../../electron/contract/lab';
import { api } from '../api/client';
import { CreateLab } from './lab/CreateLab';
import { LabList } from './lab/LabList';
import { LabTools } from './lab/LabTools';
import { LogTable } from './lab/LogTable';
import { ResetLab } from './lab/ResetLab';
import { RosterTable } from './lab/RosterTable';
import { StationPanel } from './lab/StationPanel';
import { useStation } from './lab/useStation';
import { PageMessage, type PageMessageState } from './PageMessage';

/** Classroom labs: create one, import its roster, run the flash station, export its log, reset it. */
export function LabPage() {
  const [labs, setLabs] = useState<LabSummary[]>([]);
  const [selected, setSelected] = useState<string>();
  const [lab, setLab] = useState<LabView>();
  const [message, setMessage] = useState<PageMessageState>();
  const showError = useCallback((text: string) => setMessage({ kind: 'error', text }), []);

  const refreshList = useCallback(
    () =>
      api()
        .call('lab.list', {})
        .then(
          (list) => {
            setLabs(list);
            setSelected((current) => current ?? list[0]?.id);
          },
          (e: Error) => showError(e.message),
        ),
    [showError],
  );
  useEffect(() => void refreshList(), [refreshList]);
  useEffect(() => {
    if (!selected) return setLab(undefined);
    let live = true;
    api()
      .call('lab.get', { lab: selected })
      .then(
        (view) => live && setLab(view),
        (e: Error) => live && showError(e.message),
      );
    return () => {
      live = false;
    };
  }, [selected, showError]);

  const labChanged = useCallback(
    (view: LabView) => {
      setLab(view);
      setSelected(view.id);
      void refreshList();
    },
    [refreshList],
  );

  return (
    <section className="lab-page" aria-label="Lab">
      <header className="page-header">
        <h1>Lab</h1>
      </header>
      <p className="lead">
        A class's boards, each with its own device id and broker login: plug them in, the station flashes them several
        at a time, and each counts as done when its first telemetry arrives.
      </p>
      <PageMessage message={message} testId="lab-message" />
      <LabList labs={labs} selected={selected} onSelect={setSelected} />
      {lab && <LabDetail key={lab.id} lab={lab} onLab={labChanged} onMessage={setMessage} onList={refreshList} />}
      <CreateLab
        onCreated={(view) => {
          labChanged(view);
          setMessage({ kind: 'notice', text: `Created ${view.name} with ${view.seats.length} seats.` });
        }}
        onError={showError}
      />
    </section>
  );
}

function LabDetail({
  lab,
  onLab,
  onMessage,
  onList,
}: {
  lab: LabView;
  onLab(view: LabView): void;
  onMessage(message: PageMessageState | undefined): void;
  onList(): Promise<void>;
}) {
  const { station, statusError, setStation } = useStation(lab);
  const [retrying, setRetrying] = useState(false);
  const error = useCallback((text: string) => onMessage({ kind: 'error', text }), [onMessage]);
  const notice = useCallback((text: string) => onMessage({ kind: 'notice', text }), [onMessage]);
  useSeatsFollowStation(lab.id, station, onLab);

  const retry = (deviceId: string) => {
    setRetrying(true);
    api()
      .call('lab.retry', { lab: lab.id, deviceId })
      .then(setStation, (e: Error) => error(e.message))
      .finally(() => setRetrying(false));
  };
  return (
    <article className="lab-detail" aria-label={`Lab ${lab.name}`} data-testid="lab-detail" data-lab={lab.name}>
      <h2>{lab.name}</h2>
      <p className="muted">
        {lab.board} · template {lab.template} · seats from {lab.seatsFrom === 'roster' ? 'a roster' : lab.idPattern}
      </p>
      <LabTools lab={lab} onLab={onLab} onError={error} onNotice={notice} />
      <StationPanel
        lab={lab.id}
        station={station}
        statusError={statusError}
        onStation={(view) => {
          setStation(view);
          onMessage(undefined); // the station answered: an older line no longer applies
          void onList();
        }}
      />
      <RosterTable seats={lab.seats} busy={retrying} onRetry={retry} />
      <LogTable lab={lab} />
      <ResetLab
        lab={lab}
        onDone={() =>
          void api()
            .call('lab.get', { lab: lab.id })
            .then(onLab, (e: Error) => error(e.message))
        }
      />
    </article>
  );
}

/** Station events change seats: read the lab again, at most once a second while they come. */
function useSeatsFollowStation(id: string, station: StationView | undefined, onLab: (view: LabView) => void) {
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!station || timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void api()
        .call('lab.get', { lab: id })
        .then(onLab, () => undefined);
    }, 1000);
  }, [id, station, onLab]);
  useEffect(() => () => clearTimeout(timer.current), []);
}
