import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The shutdown helper in a real process: SIGTERM runs the stop work once and exits 0 when it
 * finishes, or 1 when it outlasts SHUTDOWN_GRACE_MS.
 */
function runWithStop(stopMs: number | 'never', graceMs: number): Promise<{ code: number | null; output: string }> {
  const script = `
    const { readShutdownConfig, stopOnTerminationSignals } = require('./runtime/shutdown');
    const log = { info: (o, m) => console.log(m), error: (o, m) => console.log(m) };
    let calls = 0;
    stopOnTerminationSignals(() => { calls++; console.log('stopping ' + calls); return ${stopMs === 'never' ? 'new Promise(() => {})' : `new Promise((r) => setTimeout(r, ${stopMs}))`}; }, log, readShutdownConfig());
    setInterval(() => {}, 1000);
    console.log('ready');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), env: { ...process.env, SHUTDOWN_GRACE_MS: String(graceMs) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready') && !output.includes('stopping')) {
        child.kill('SIGTERM');
        child.kill('SIGTERM'); // a second signal changes nothing
      }
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('SIGTERM: the stop work runs once and the process exits 0 when it is done', async () => {
  const { code, output } = await runWithStop(50, 5000);
  expect(code).toBe(0);
  expect(output.match(/stopping/g)).toHaveLength(1);
  expect(output).toContain('stopped cleanly');
}, 30_000);

test('SIGTERM: stop work that outlasts the grace period is cut, exit code 1', async () => {
  const { code, output } = await runWithStop('never', 300);
  expect(code).toBe(1);
  expect(output).toContain('grace period over');
}, 30_000);
