import { useEffect, useRef, useState } from 'react';
import type { BoardCoreView } from '../../../../electron/contract/boards';
import type { CachedBuildView } from '../../../../electron/contract/firmware';
import { CliTarget, type PackCreateSummary, type PackPlan } from '../../../../electron/contract/pack';
import { api } from '../../api/client';
import { usePickedProfile } from '../usePickedProfile';
import { formatBytes } from './formatBytes';
import { EMPTY_PACK_FORM, packContents, packFile, type PackForm } from './packContents';
import { PackChoices } from './PackChoices';
import { PackParts, plannedSizeIsUpperBound } from './PackParts';
import { PackPhases } from './PackPhases';
import { CREATE_PHASES } from './packTrack';
import { usePackOperation } from './usePackOperation';
import { PageMessage, showOutcome, type PageMessageState } from '../PageMessage';

/** What the sizes were checked for: the choice without the passphrase (which changes no size). */
const choiceKey = (form: PackForm) => JSON.stringify({ ...form, passphrase: undefined, again: undefined });

/** Create a pack: choose its contents, check each part's size, then write it with progress and a summary. */
export function CreatePack() {
  const [form, setForm] = useState<PackForm>(EMPTY_PACK_FORM);
  const [message, setMessage] = useState<PageMessageState>();
  const fail = (text: string) => setMessage({ kind: 'error', text });
  const [cores, setCores] = useState<BoardCoreView[] | string>([]); // a string: why none can be listed
  const [builds, setBuilds] = useState<CachedBuildView[] | string>([]); // likewise
  const [profiles] = usePickedProfile(fail);
  const thisTarget = useThisTarget((target) => setForm((f) => ({ ...f, cliTargets: [target] })));
  const [plan, setPlan] = useState<{ plan: PackPlan; key: string }>();
  const [file, setFile] = useState('');
  const [name, setName] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [summary, setSummary] = useState<PackCreateSummary>();
  const operation = usePackOperation();
  const busy = operation.busy;

  useEffect(() => {
    api()
      .call('boards.list', {})
      .then(
        (list) => setCores(list.filter((c) => c.installed)),
        (e: Error) => setCores(e.message),
      );
    api()
      .call('firmware.builds', {})
      .then(setBuilds, (e: Error) => setBuilds(e.message));
  }, []);

  const act = (work: () => Promise<string>) => showOutcome(setMessage, work);
  const checkSizes = () =>
    act(async () => {
      setSummary(undefined);
      operation.clear();
      const args = packContents(form);
      const planned = await api().call('pack.plan', args);
      setPlan({ plan: planned, key: choiceKey(form) });
      const problems = planned.problems.length ? `; ${planned.problems.length} cannot be carried (below)` : '';
      const atMost = planned.parts.some((p) => plannedSizeIsUpperBound(p.kind)) ? 'at most ' : '';
      const count = `${planned.parts.length} part${planned.parts.length === 1 ? '' : 's'}`;
      return `The pack would be ${atMost}${formatBytes(planned.bytes)} in ${count}${problems}.`;
    });
  const create = () =>
    act(async () => {
      const args = { ...packContents(form), file: packFile(file), name: name.trim() || undefined, overwrite };
      setSummary(undefined);
      const done = await operation.run(CREATE_PHASES, (operationId) =>
        api().call('pack.create', { ...args, operationId }),
      );
      setSummary(done);
      return `Wrote ${done.file}: ${formatBytes(done.bytes)} in ${(done.ms / 1000).toFixed(1)} s.`;
    });
  const current = plan?.key === choiceKey(form);

  return (
    <section className="panel pack-create" aria-label="Create a pack">
      <h2>Create a pack</h2>
      <PackChoices {...{ form, cores, builds, profiles, thisTarget }} onChange={setForm} disabled={busy} />
      <div className="toolbar">
        <button type="button" className="secondary" onClick={() => void checkSizes()} disabled={busy}>
          Check sizes
        </button>
      </div>
      {plan && (
        <div className={current ? undefined : 'stale'} data-testid="pack-plan" data-current={current}>
          {!current && <p className="muted">The choice changed: check the sizes again before creating.</p>}
          <PackParts parts={plan.plan.parts} bytes={plan.plan.bytes} label="Planned parts" planned />
          {plan.plan.problems.length > 0 && (
            <ul className="warning pack-problems" aria-label="Cannot be carried">
              {plan.plan.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="toolbar">
        <label>
          Pack file (on the machine running Makerdeck)
          <input
            value={file}
            placeholder="/media/usb/room3.mdpack"
            onChange={(e) => setFile(e.target.value)}
            disabled={busy}
          />
        </label>
        <label>
          Name (optional)
          <input value={name} placeholder="Room 3" onChange={(e) => setName(e.target.value)} disabled={busy} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} disabled={busy} />
          Replace the file if it exists
        </label>
        <button type="button" onClick={() => void create()} disabled={busy || !current}>
          Create pack
        </button>
        {busy && (
          <button type="button" className="danger" onClick={operation.cancel}>
            Cancel
          </button>
        )}
      </div>
      {!current && !busy && <p className="muted">Check the sizes first: they are shown before anything is written.</p>}
      {operation.track && <PackPhases track={operation.track} label="Create phases" />}
      <PageMessage message={message} testId="pack-create-message" />
      {summary && <CreateSummary summary={summary} />}
    </section>
  );
}

function CreateSummary({ summary }: { summary: PackCreateSummary }) {
  return (
    <div className="pack-summary" data-testid="pack-create-summary">
      <p>
        <strong>{summary.file}</strong> — {formatBytes(summary.bytes)}, SHA-256{' '}
        <code className="pack-sha">{summary.sha256}</code>
      </p>
      <PackParts parts={summary.parts} bytes={summary.bytes} label="Written parts" />
    </div>
  );
}

/** This machine's arduino-cli target (from app.info), told once to `onFound` to preselect it. */
function useThisTarget(onFound: (target: CliTarget) => void): CliTarget | undefined {
  const [target, setTarget] = useState<CliTarget>();
  const found = useRef(onFound);
  found.current = onFound;
  useEffect(() => {
    api()
      .call('app.info', {})
      .then(
        (info) => {
          // app.info's platform is "<os.platform()> <os.release()>".
          const parsed = CliTarget.safeParse(`${info.platform.split(' ')[0]}-${info.arch}`);
          if (!parsed.success) return;
          setTarget(parsed.data);
          found.current(parsed.data);
        },
        () => undefined, // no preselection; the list still offers every target
      );
  }, []);
  return target;
}
