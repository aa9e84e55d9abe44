import { useRef, useState } from 'react';
import type { DoctorAction, DoctorCheck } from '../../../../electron/contract/doctor';
import { downloadText } from '../../download';

type CopyStep = Extract<DoctorAction, { kind: 'copy' }>;
type SaveStep = Extract<DoctorAction, { kind: 'save' }>;

/** A check's fix as steps (copy a command, save a file), and its notes for this operating system. */
export function CheckFixes({ check }: { check: Pick<DoctorCheck, 'actions' | 'notes'> }) {
  const actions = check.actions ?? [];
  const notes = check.notes ?? [];
  if (actions.length === 0 && notes.length === 0) return null;
  return (
    <>
      {actions.length > 0 && (
        <ol className="actions">
          {actions.map((action, index) => (
            <li key={index}>
              {action.kind === 'copy' ? <CopyAction action={action} /> : <SaveAction action={action} />}
            </li>
          ))}
        </ol>
      )}
      {notes.length > 0 && (
        <ul className="notes">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
    </>
  );
}

function CopyAction({ action }: { action: CopyStep }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select'>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(action.text);
      setCopied('yes');
    } catch {
      // No clipboard here (plain http, or permission refused): select the command so Ctrl+C copies it.
      field.current?.focus();
      field.current?.select();
      setCopied('select');
    }
  };
  return (
    <>
      <span>{action.label}</span>
      <span className="copy-row">
        <input ref={field} readOnly value={action.text} aria-label={action.label} />
        <button type="button" onClick={() => void copy()}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </span>
      {copied === 'select' && <small>Press Ctrl+C to copy the selected command.</small>}
    </>
  );
}

function SaveAction({ action }: { action: SaveStep }) {
  return (
    <>
      <span>{action.label}</span>{' '}
      <button type="button" onClick={() => downloadText(action.fileName, action.content, 'text/plain')}>
        Save {action.fileName}
      </button>
    </>
  );
}
