import { memo, useEffect, useMemo, useRef } from 'react';
import type { LabSeatView } from '../../../../electron/contract/lab';
import type { DeviceView } from '../../../../electron/contract/telemetry';
import { GridModel } from './gridModel';

/**
 * The teacher's view of a lab: one small live chart per board with its id, student, newest value
 * and online state. React renders the cells once; the GridModel draws into them per frame.
 */
export const TeacherGrid = memo(function TeacherGrid({
  seats,
  field,
  known,
}: {
  seats: LabSeatView[];
  field: string;
  /** The page's devices when the grid opens (their state and last values until a batch updates them). */
  known: () => DeviceView[];
}) {
  const ids = seats.map((seat) => seat.deviceId).join('\n');
  // `ids` stands for the seats: a new array naming the same boards keeps the model and its points.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const model = useMemo(() => new GridModel(ids.split('\n').filter(Boolean), field, known()), [ids, field]);
  useEffect(() => {
    model.start();
    return () => model.stop();
  }, [model]);
  return (
    <ul
      className="teacher-grid"
      aria-label="Boards of the lab"
      data-testid="teacher-grid"
      ref={(el) => model.attachRoot(el ?? undefined)}
    >
      {seats.map((seat) => (
        <GridCellView key={seat.deviceId} seat={seat} model={model} />
      ))}
    </ul>
  );
});

function GridCellView({ seat, model }: { seat: LabSeatView; model: GridModel }) {
  const root = useRef<HTMLLIElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const value = useRef<HTMLSpanElement>(null);
  const status = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    model.attach(seat.deviceId, {
      root: root.current!,
      canvas: canvas.current!,
      value: value.current!,
      status: status.current!,
    });
    return () => model.attach(seat.deviceId, undefined);
  }, [model, seat.deviceId]);
  return (
    <li className="grid-cell" ref={root} data-testid={`grid-${seat.deviceId}`} data-status="unknown">
      <header>
        <strong>{seat.deviceId}</strong>
        <span className="grid-status" ref={status}>
          ? unknown
        </span>
      </header>
      <div className="muted">{seat.student ?? `seat ${seat.seat}`}</div>
      <canvas ref={canvas} aria-label={`${seat.deviceId} live chart`} />
      <span className="grid-value" ref={value}>
        no data yet
      </span>
    </li>
  );
}
