// A virtualized line list: only the rows in view are in the DOM, so 100,000 lines stay responsive.
import { useEffect, useRef, useState } from 'react';
import type { LineBuffer } from './lineBuffer';

const ROW = 18;

export function LineList({ buffer, version, follow }: { buffer: LineBuffer; version: number; follow: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = buffer.length * ROW;
  }, [version, follow, buffer]);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - 5);
  const count = Math.ceil(height / ROW) + 10;
  const rows = [];
  for (let i = first; i < Math.min(buffer.length, first + count); i++) {
    const line = buffer.at(i)!;
    rows.push(
      <div key={i} className={line.text.startsWith('telemetry,') ? 'line telemetry' : 'line'} style={{ top: i * ROW }}>
        <span className="time">{new Date(line.t).toLocaleTimeString(undefined, { hour12: false })}</span>
        {line.text}
      </div>,
    );
  }
  return (
    <div
      ref={box}
      className="line-list"
      data-testid="monitor-lines"
      data-count={buffer.length}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      <div style={{ height: buffer.length * ROW, position: 'relative' }}>{rows}</div>
    </div>
  );
}
