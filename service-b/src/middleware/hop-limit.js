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

// 1 to 3 ASCII digits (0-999, leading zeros allowed): anything longer is
// not a hop count, and Number() of a long digit string would be Infinity.
const HOP_COUNT_PATTERN = /^[0-9]{1,3}$/;

/**
 * The hop count of the request's X-Hop-Count header lines (as
 * `req.headersDistinct` lists them): absent = 0; exactly one line of 1 to 3
 * digits; anything else (two lines, empty, sign, space) is undefined.
 */
function parseHopCount(lines) {
  if (lines === undefined) {
    return 0;
  }
  if (lines.length !== 1 || !HOP_COUNT_PATTERN.test(lines[0])) {
    return undefined;
  }
  return Number(lines[0]);
}

function hopLimit(maxHops) {
  return function enforceHopLimit(req, res, next) {
    const hopCount = parseHopCount(req.headersDistinct['x-hop-count']);
    if (hopCount === undefined) {
      throw badRequest('invalid_hop_count', 'X-Hop-Count must be one header line of 1 to 3 digits');
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
