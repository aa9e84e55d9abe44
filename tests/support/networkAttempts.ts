// What a traced process tried to reach: the socket addresses in an `strace -f -e trace=connect,sendto,sendmsg`
// log, each with the call's result, classified as unix, loopback or off loopback (a network a laptop
// without one does not have).

export interface NetworkAttempt {
  pid: number;
  syscall: string;
  family: 'unix' | 'inet' | 'inet6';
  /** The IP address, or the unix socket's path (abstract ones start with @). */
  address: string;
  port?: number;
  /** What the call returned, e.g. `0`, `-1 ENETUNREACH (Network is unreachable)`. */
  result: string;
}

const CALL = /^(\d+) +(connect|sendto|sendmsg)\((.*)$/;
const RESUMED = /^(\d+) +<\.\.\. (connect|sendto|sendmsg) resumed>.*?= (.*)$/;
const INET = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/;
const INET6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/;
const UNIX = /sa_family=AF_UNIX, sun_path=(@?)"([^"]*)"/;

function addressOf(text: string): Pick<NetworkAttempt, 'family' | 'address' | 'port'> | undefined {
  const inet = INET.exec(text);
  if (inet) return { family: 'inet', address: inet[2]!, port: Number(inet[1]) };
  const inet6 = INET6.exec(text);
  if (inet6) return { family: 'inet6', address: inet6[2]!, port: Number(inet6[1]) };
  const unix = UNIX.exec(text);
  if (unix) return { family: 'unix', address: unix[1]! + unix[2]! };
  return undefined; // AF_UNSPEC (a UDP socket disconnected), netlink, or a send on a connected socket
}

/** Every addressed attempt in an strace log written with `-f` (lines start with the PID). */
export function networkAttempts(log: string): NetworkAttempt[] {
  const found: NetworkAttempt[] = [];
  const pending = new Map<string, NetworkAttempt>(); // `<pid> <syscall>` → its unfinished call
  for (const line of log.split('\n')) {
    const resumed = RESUMED.exec(line);
    if (resumed) {
      const attempt = pending.get(`${resumed[1]} ${resumed[2]}`);
      pending.delete(`${resumed[1]} ${resumed[2]}`);
      if (attempt) attempt.result = resumed[3]!.trim();
      continue;
    }
    const call = CALL.exec(line);
    if (!call) continue;
    const address = addressOf(call[3]!);
    if (!address) continue;
    const unfinished = call[3]!.endsWith('<unfinished ...>');
    const attempt: NetworkAttempt = {
      pid: Number(call[1]),
      syscall: call[2]!,
      ...address,
      result: unfinished ? '(unfinished)' : (/\) += (.*)$/.exec(call[3]!)?.[1] ?? '').trim(),
    };
    if (unfinished) pending.set(`${attempt.pid} ${attempt.syscall}`, attempt);
    found.push(attempt);
  }
  return found;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}

/** The attempts that left this machine's loopback: what a laptop with no network cannot answer. */
export function offLoopback(attempts: NetworkAttempt[]): NetworkAttempt[] {
  return attempts.filter((a) => a.family !== 'unix' && !isLoopback(a.address));
}

/** `10.0.0.1:53 (ENETUNREACH)` per attempt, for messages and reports. */
export function describeAttempt(a: NetworkAttempt): string {
  const where = a.family === 'unix' ? `unix:${a.address}` : `${a.address}:${a.port}`;
  const errno = /^-1 (\w+)/.exec(a.result)?.[1];
  return `${a.syscall} ${where}${errno ? ` (${errno})` : ''}`;
}
