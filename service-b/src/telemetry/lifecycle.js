'use strict';

// The link between the telemetry setup (loaded with --require before the app)
// and the server's shutdown path: the setup registers how to flush, the server
// calls shutdownTelemetry() once it has drained its requests.
// @opentelemetry/sdk-node installs no signal handler of its own, so without
// this call the last spans of a stopping process would never be exported.

const hooks = [];

function onTelemetryShutdown(hook) {
  hooks.push(hook);
}

/**
 * Runs every registered hook (force-flush + shutdown of the providers).
 * Resolves to true when all finished within `timeoutMs`, false otherwise;
 * never rejects, since a failed flush must not block the process exit.
 */
async function shutdownTelemetry({ timeoutMs }) {
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs, false);
  });
  const finished = Promise.allSettled(hooks.map((hook) => hook())).then((results) =>
    results.every((result) => result.status === 'fulfilled'),
  );
  try {
    return await Promise.race([finished, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { onTelemetryShutdown, shutdownTelemetry };
