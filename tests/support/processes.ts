// The machine's processes as /proc shows them, so a test can act when a child it caused really runs.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

/** Every live (not zombie) process; ones that exit while being read are left out. */
export function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      found.push({ pid: Number(name), ppid: Number(ppid), argv });
    } catch {
      // it exited meanwhile
    }
  }
  return found;
}

/** The live processes whose command line mentions `text` in some argument. */
export function processesMentioning(text: string): ProcessInfo[] {
  return processes().filter((p) => p.argv.some((arg) => arg.includes(text)));
}
