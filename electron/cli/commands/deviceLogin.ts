// `makerdeck device-login list|create|rotate|revoke ID`: each board's own broker login on the local
// stack. Passwords stay in the keychain: nothing here prints one.
import { MakerdeckError, type DeviceLoginView } from '../../contract';
import { callApi, runAction, type Command, type CommandContext } from '../command';
import { EXIT } from '../output';

function deviceIdOf(context: CommandContext, action: string): string {
  const deviceId = context.positionals[1];
  if (!deviceId || context.positionals.length > 2)
    throw new MakerdeckError('BAD_INPUT', `Name one device: makerdeck device-login ${action} DEVICE_ID`);
  return deviceId;
}

function show(context: CommandContext, view: DeviceLoginView, done: string): number {
  context.out.data(view);
  context.out.text(`${done} ${view.username} for ${view.deviceId} (password in the keychain)`);
  return EXIT.ok;
}

const actions: Record<string, (context: CommandContext) => Promise<number>> = {
  async list(context) {
    const logins = await callApi(context, 'devices.loginList', {});
    context.out.data(logins);
    if (logins.length === 0) context.out.text('No device logins yet: makerdeck device-login create DEVICE_ID');
    for (const l of logins)
      context.out.text(
        `${l.deviceId.padEnd(24)} ${l.username}${l.inKeychain ? '' : '  (no password in the keychain)'}`,
      );
    return EXIT.ok;
  },
  async create(context) {
    return show(
      context,
      await callApi(context, 'devices.loginCreate', { deviceId: deviceIdOf(context, 'create') }),
      'Ready:',
    );
  },
  async rotate(context) {
    const view = await callApi(context, 'devices.loginRotate', { deviceId: deviceIdOf(context, 'rotate') });
    return show(context, view, 'New password for');
  },
  async revoke(context) {
    const result = await callApi(context, 'devices.loginRevoke', { deviceId: deviceIdOf(context, 'revoke') });
    context.out.data(result);
    context.out.text(result.revoked ? `Revoked ${result.deviceId}'s login.` : `${result.deviceId} had no login.`);
    return EXIT.ok;
  },
};

export const deviceLoginCommand: Command = {
  name: 'device-login',
  summary: "Each board's own broker login on the local stack: it may publish only to makerdeck/<id>/…",
  usage: [
    'makerdeck device-login list [--json]',
    '       makerdeck device-login create|rotate|revoke DEVICE_ID [--json]',
  ].join('\n'),
  positionals: true,
  options: {},
  run: (context) => runAction(context, 'device-login', actions, 'list'),
};
