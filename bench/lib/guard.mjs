// Runs one non-Node program (redis-server, nginx) and kills it when the bench disconnects:
// an orphaned nginx or redis-server would outlive a bench killed with SIGKILL otherwise.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let killTimer;

/** SIGTERM, and SIGKILL if the program is still there 2 s later: the guard stays until it is gone. */
function stop() {
  if (killTimer !== undefined) return;
  child.kill('SIGTERM');
  killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
}

child.on('error', (error) => {
  process.stderr.write(`cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('spawn', () => process.send?.({ type: 'started', pid: child.pid }));
child.on('exit', (code, signal) => {
  clearTimeout(killTimer);
  if (process.connected) process.disconnect();
  process.exit(code ?? (signal ? 1 : 0));
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
