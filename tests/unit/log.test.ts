import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../electron/contract';
import { EventBus } from '../../electron/core/events';
import { createLogger } from '../../electron/core/log';
import { Redactor } from '../../electron/core/secrets/redactor';

describe('the logger', () => {
  it('sends one line without the stack to clients, whatever the message held', () => {
    const redactor = new Redactor();
    const bus = new EventBus(redactor);
    const lines: LogLine[] = [];
    bus.on('log', (line) => lines.push(line));
    const logger = createLogger(bus, redactor, 'serve', true);
    const error = new TypeError('cannot read x');
    logger.log('error', `app.info failed: ${error.stack}`);
    logger.log('info', 'Refused Host "a\r\nb"\n\n  injected: line');
    expect(error.stack).toMatch(/\n\s+at /);
    expect(lines.map((line) => line.message)).toEqual([
      'app.info failed: TypeError: cannot read x',
      'Refused Host "a | b" | injected: line',
    ]);
  });
});
