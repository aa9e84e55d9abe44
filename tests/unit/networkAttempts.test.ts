// The strace log reader behind the offline tests: addresses, results across <unfinished ...>, loopback.
import { describe, expect, it } from 'vitest';
import { describeAttempt, isLoopback, networkAttempts, offLoopback } from '../support/networkAttempts';

// Lines as strace 6.1 writes them with -f -o FILE.
const LOG = [
  '31439 connect(20, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>',
  '31447 connect(19, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110 <unfinished ...>',
  '31439 <... connect resumed>)            = -1 ENETUNREACH (Network is unreachable)',
  '31447 <... connect resumed>)            = -1 ENOENT (No such file or directory)',
  '31439 connect(19, {sa_family=AF_INET, sin_port=htons(1883), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)',
  '31450 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)',
  '31450 connect(8, {sa_family=AF_INET6, sin6_port=htons(8086), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
  '31451 connect(9, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0',
  '31452 sendmsg(3, {msg_name={sa_family=AF_INET, sin_port=htons(5353), sin_addr=inet_addr("224.0.0.251")}, msg_namelen=16, msg_iov=[]}, 0) = -1 ENETUNREACH (Network is unreachable)',
  '31452 sendmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[]}, 0) = 12',
  '31453 connect(5, {sa_family=AF_UNIX, sun_path=@"/tmp/dbus-abc"}, 20) = -1 ECONNREFUSED (Connection refused)',
].join('\n');

describe('networkAttempts', () => {
  const attempts = networkAttempts(LOG);

  it('reads every addressed call, with the result of a call strace split in two', () => {
    expect(attempts.map(describeAttempt)).toEqual([
      'connect 10.255.255.53:53 (ENETUNREACH)',
      'connect unix:/var/run/nscd/socket (ENOENT)',
      'connect 127.0.0.1:1883 (EINPROGRESS)',
      'connect 2a00:1450::1:443 (ENETUNREACH)',
      'connect ::1:8086',
      'sendmsg 224.0.0.251:5353 (ENETUNREACH)',
      'connect unix:@/tmp/dbus-abc (ECONNREFUSED)',
    ]);
  });

  it('keeps only what left loopback', () => {
    expect(offLoopback(attempts).map((a) => a.address)).toEqual(['10.255.255.53', '2a00:1450::1', '224.0.0.251']);
    expect(['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '172.17.0.2', '::', '128.0.0.1'].some(isLoopback)).toBe(false);
  });
});
