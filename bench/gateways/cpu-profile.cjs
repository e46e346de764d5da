// Required in every server process by `npm run bench -- --profile` (NODE_OPTIONS does not
// take --cpu-prof): records a V8 CPU profile from start to exit and writes it to
// BENCH_PROFILE_DIR as <entry>-<pid>.cpuprofile, for bench/gateways/profile-top.ts.
// Plain JavaScript: it loads before any TypeScript loader, in worker threads too.
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');
const { join } = require('node:path');
const { isMainThread } = require('node:worker_threads');

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  const name = `${(process.argv[1] || 'node').split('/').slice(-2).join('-').replace(/\.ts$/, '')}-${process.pid}`;
  process.once('exit', () => {
    // A session on the process's own thread answers synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
