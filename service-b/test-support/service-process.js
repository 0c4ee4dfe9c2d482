'use strict';

// The real service as a child process, started the way production starts it
// (instrumentation preloaded), with everything it prints collected.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { waitFor } = require('./wait');

const STARTUP_MS = 60_000; // a cold start on a busy 2-core machine

function startServiceProcess(env) {
  const child = spawn(process.execPath, ['--require', './src/instrumentation.js', 'src/server.js'], {
    cwd: path.join(__dirname, '..'),
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', OTEL_SERVICE_NAME: 'service-b', LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
  }
  const lines = () => output.split('\n').filter((line) => line !== '');
  return {
    child,
    exited: once(child, 'exit'),
    lines,
    /** Its `listening` log line, once written (the port is in it). */
    listening: () =>
      waitFor(() => lines().map((line) => JSON.parse(line)).find((line) => line.message === 'listening'), {
        what: 'the listening line',
        timeoutMs: STARTUP_MS,
      }),
  };
}

module.exports = { startServiceProcess };
