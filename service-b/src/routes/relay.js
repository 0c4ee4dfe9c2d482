'use strict';

// The shared tail of the endpoints that call one other service: answer 200
// with the downstream body under "results", or 502 naming what failed.

const { callService, resultEntry, DownstreamError } = require('../downstream');
const { HttpError } = require('../http-errors');
const { sendJson } = require('../respond');

async function relayTo(res, config, logger, target, path) {
  const outcome = await callService(config, logger, target, path, res.locals);
  const results = { [target]: resultEntry(outcome) };
  if (!outcome.ok) {
    const cause = new DownstreamError(target, outcome);
    throw new HttpError(502, 'downstream_failed', cause.message, { cause, details: { results } });
  }
  sendJson(res, 200, { status: 'ok', results });
}

module.exports = { relayTo };
