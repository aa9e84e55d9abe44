// The line a page leaves after an action: the notice or the error, announced by role.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { PageMessage, showOutcome, type PageMessageState } from '../../renderer/src/pages/PageMessage';

describe('PageMessage', () => {
  it('renders an error as an alert, a notice as a status, and nothing without a message', () => {
    const render = (message?: PageMessageState) => renderToStaticMarkup(createElement(PageMessage, { message }));
    expect(render({ kind: 'error', text: 'No broker' })).toBe('<p class="error" role="alert">No broker</p>');
    expect(render({ kind: 'notice', text: 'Saved' })).toBe('<p class="notice" role="status">Saved</p>');
    expect(render(undefined)).toBe('');
  });

  it('clears the old line, then leaves the outcome: the returned notice or the thrown error', async () => {
    const seen: Array<PageMessageState | undefined> = [];
    await showOutcome(
      (m) => seen.push(m),
      () => Promise.resolve('Written'),
    );
    await showOutcome(
      (m) => seen.push(m),
      () => Promise.reject(new Error('Disk full: free 2 GB')),
    );
    expect(seen).toEqual([
      undefined,
      { kind: 'notice', text: 'Written' },
      undefined,
      { kind: 'error', text: 'Disk full: free 2 GB' },
    ]);
  });
});
