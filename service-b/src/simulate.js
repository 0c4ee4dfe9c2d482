'use strict';

// The one place where service-b pretends to work: latency, failures and the
// memory budget. Driven only by the named query parameters of the contract
// (docs/contract.md, "Simulation parameters"):
//
//   delay_ms  extra latency, an integer of any size clamped to 0..10000 (default 0)
//   fail      "true" forces a failure, "false" forces success, absent = the
//             endpoint's default (FAILURE_PROBABILITY for random endpoints)
//
// On top of delay_ms every simulated operation takes BASE_LATENCY_MS, so
// traces show service-b's share of a request.

const { setTimeout: sleep } = require('node:timers/promises');
const { badRequest } = require('./http-errors');
const { serverSpan } = require('./telemetry/server-span');

const BASE_LATENCY_MS = 15;
const MAX_DELAY_MS = 10000;
const FAILURE_PROBABILITY = 0.5;
// /api/memory-error: what the operation may use, and what it asks for
// when it is meant to fail (4x the budget) or to succeed (a quarter of it).
const MEMORY_BUDGET_BYTES = 1024 * 1024;
const MEMORY_REQUEST_BYTES = { failing: 4 * MEMORY_BUDGET_BYTES, fitting: MEMORY_BUDGET_BYTES / 4 };

class SimulatedFailure extends Error {
  constructor(message) {
    super(message);
    this.name = 'SimulatedFailure';
  }
}

class OperationTimeout extends Error {
  constructor(deadlineMs) {
    super(`operation did not finish within its ${deadlineMs} ms deadline`);
    this.name = 'OperationTimeout';
    // Contract's short code for timeouts (error.type).
    this.errorType = 'timeout';
  }
}

class MemoryLimitExceeded extends Error {
  constructor(requestedBytes, budgetBytes) {
    super(`operation needs ${requestedBytes} bytes, budget is ${budgetBytes} bytes`);
    this.name = 'MemoryLimitExceeded';
  }
}

// docs/contract.md, "Input rules": an optional minus sign and ASCII digits,
// however many; any such integer is clamped (Number() of a huge one is
// Infinity, which clamps the same way).
const DELAY_PATTERN = /^-?[0-9]+$/;

/** The one value of a query parameter; given twice it is refused, even with equal values. */
function single(query, name) {
  const raw = query[name];
  if (Array.isArray(raw)) {
    throw badRequest('invalid_parameter', `${name} must be given at most once`);
  }
  return raw;
}

function parseDelay(raw, defaultMs) {
  if (raw === undefined) {
    return defaultMs;
  }
  if (!DELAY_PATTERN.test(raw)) {
    throw badRequest('invalid_parameter', 'delay_ms must be an integer number of milliseconds');
  }
  return Math.min(Math.max(Number(raw), 0), MAX_DELAY_MS);
}

function parseFail(raw) {
  if (raw === undefined) {
    return undefined;
  }
  if (raw === 'true' || raw === 'false') {
    return raw === 'true';
  }
  throw badRequest('invalid_parameter', 'fail must be "true" or "false"');
}

/**
 * Reads delay_ms and fail from a query object (400 invalid_parameter when
 * malformed) and records the delay on the server span.
 * `fail` is true/false when forced and undefined when absent.
 */
function simulationParams(query, { defaultDelayMs = 0 } = {}) {
  const params = {
    delayMs: parseDelay(single(query, 'delay_ms'), defaultDelayMs),
    fail: parseFail(single(query, 'fail')),
  };
  serverSpan().setAttribute('app.simulated_delay_ms', params.delayMs);
  return params;
}

/** true/false when forced, otherwise a coin flip with FAILURE_PROBABILITY. */
function shouldFail(fail, random = Math.random) {
  return fail ?? random() < FAILURE_PROBABILITY;
}

/** Waits the base latency plus delay_ms; rejects early if `signal` aborts. */
function simulateLatency(delayMs, { signal } = {}) {
  return sleep(BASE_LATENCY_MS + delayMs, undefined, { signal });
}

/**
 * A slow operation with a deadline: the wait is abandoned (its timer
 * cancelled) when the deadline passes, and OperationTimeout is thrown.
 */
async function runWithDeadline(delayMs, deadlineMs) {
  try {
    await simulateLatency(delayMs, { signal: AbortSignal.timeout(deadlineMs) });
  } catch (error) {
    if (error.name === 'AbortError') {
      throw new OperationTimeout(deadlineMs);
    }
    throw error;
  }
}

/**
 * Budget arithmetic only: nothing is allocated. Throws MemoryLimitExceeded
 * when `requestedBytes` does not fit the budget.
 */
function reserveMemory(requestedBytes, budgetBytes = MEMORY_BUDGET_BYTES) {
  if (requestedBytes > budgetBytes) {
    throw new MemoryLimitExceeded(requestedBytes, budgetBytes);
  }
  return { reservedBytes: requestedBytes, budgetBytes };
}

module.exports = {
  BASE_LATENCY_MS,
  MAX_DELAY_MS,
  FAILURE_PROBABILITY,
  MEMORY_BUDGET_BYTES,
  MEMORY_REQUEST_BYTES,
  SimulatedFailure,
  OperationTimeout,
  MemoryLimitExceeded,
  simulationParams,
  shouldFail,
  simulateLatency,
  runWithDeadline,
  reserveMemory,
};
