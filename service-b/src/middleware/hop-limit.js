'use strict';

// X-Hop-Count: how many service-to-service calls led here. Services calling
// each other in a circle would otherwise recurse forever; past MAX_HOPS the
// request is refused with 508 Loop Detected before any work is done.

const { HttpError, badRequest } = require('../http-errors');
const { serverSpan } = require('../telemetry/server-span');

class HopLimitExceeded extends Error {
  constructor(hopCount, maxHops) {
    super(`X-Hop-Count ${hopCount} exceeds MAX_HOPS ${maxHops}`);
    this.name = 'HopLimitExceeded';
  }
}

/** Absent = 0; anything but a non-negative integer is undefined (invalid). */
function parseHopCount(raw) {
  if (raw === undefined) {
    return 0;
  }
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function hopLimit(maxHops) {
  return function enforceHopLimit(req, res, next) {
    const hopCount = parseHopCount(req.get('x-hop-count'));
    if (hopCount === undefined) {
      throw badRequest('invalid_hop_count', 'X-Hop-Count must be a non-negative integer');
    }
    serverSpan().setAttribute('app.hop_count', hopCount);
    if (hopCount > maxHops) {
      const cause = new HopLimitExceeded(hopCount, maxHops);
      throw new HttpError(508, 'loop_detected', cause.message, { cause });
    }
    res.locals.hopCount = hopCount;
    next();
  };
}

module.exports = { hopLimit, parseHopCount, HopLimitExceeded };
