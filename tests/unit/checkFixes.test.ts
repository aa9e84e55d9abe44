// The Doctor page's fix steps, rendered to markup (no browser: the machine's serial ports give the
// e2e run no access problem to show, so the steps are rendered here from the real builder's output).
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { serialAccessFixes } from '../../electron/core/doctor/serialAccessFixes';
import { CheckFixes } from '../../renderer/src/pages/doctor/CheckFixes';

const render = (check: Parameters<typeof CheckFixes>[0]['check']) =>
  renderToStaticMarkup(createElement(CheckFixes, { check }));

describe('Doctor page fix steps', () => {
  it('shows each command in a read-only field with a Copy button, a Save button per file, and the notes', () => {
    const fixes = serialAccessFixes('linux', { canOpen: false, group: 'uucp', inGroup: false, groupCanOpen: true });
    const html = render(fixes);
    const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    for (const action of fixes.actions.filter((a) => a.kind === 'copy')) {
      expect(html).toContain(`readOnly="" aria-label="${action.label}" value="${escape(action.text)}"/><button`);
    }
    expect(html).toContain('value="sudo usermod -aG uucp &quot;$USER&quot;"');
    expect(html.match(/<button type="button">Copy<\/button>/g)).toHaveLength(2);
    expect(html).toContain('<button type="button">Save 70-makerdeck-usb-serial.rules</button>');
    expect(html).toMatch(/<ul class="notes"><li>A CH340 port .*brltty/);
  });

  it('shows only the notes when there is nothing to run (macOS)', () => {
    const html = render(serialAccessFixes('darwin'));
    expect(html).not.toContain('<button');
    expect(html).toContain('CH34xVCP');
  });

  it('renders nothing when the check has no steps and no notes', () => {
    expect(render({})).toBe('');
    expect(render(serialAccessFixes('linux', { canOpen: true }))).toBe('');
  });
});
