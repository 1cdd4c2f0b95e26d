// Who holds an import, and when another instance may take it over. An owner is
// `<host>:<pid>:<random>`; an import is abandoned when its heartbeat is older than the lease, or at
// once when its owner was a process of this very host that no longer exists (a SIGKILLed importer
// is finished by the next run without waiting for the lease). Instances sharing a database must
// therefore run on hosts with distinct names.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function newImporterOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** False only when the owner names a process of this host that is gone. */
export function ownerProcessMayLive(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  if (host !== hostname() || pidText === undefined || !/^\d+$/.test(pidText)) return true;
  const pid = Number(pidText);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists (another user's); only ESRCH proves it is gone.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface Holder {
  owner: string;
  /** ISO-8601 time of the holder's last heartbeat. */
  heartbeatAt: string;
}

/** Whether `holder` has let its import go: heartbeat older than `leaseMs`, or its process is gone. */
export function isAbandoned(holder: Holder, now: Date, leaseMs: number): boolean {
  const age = now.getTime() - Date.parse(holder.heartbeatAt);
  return !(age <= leaseMs) || !ownerProcessMayLive(holder.owner);
}
