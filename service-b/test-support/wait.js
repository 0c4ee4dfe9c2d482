'use strict';

const { setTimeout: sleep } = require('node:timers/promises');

/**
 * Polls `probe` until it returns something other than undefined/false, and
 * returns that; fails after `timeoutMs`. The interval only spaces the polls,
 * it never stands in for the wait itself.
 */
async function waitFor(probe, { timeoutMs = 5000, intervalMs = 10, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}

module.exports = { waitFor };
