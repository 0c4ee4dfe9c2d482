'use strict';

// W3C Trace Context with the duplicate-header rule the standard propagator
// leaves to the HTTP stack.
//
// Two *different* traceparent values (as separate header lines, which Node
// joins with ", ", or as one comma-joined line) are invalid input: the request
// must start a new trace rather than pick one of them. Identical duplicates
// count as one. Multiple tracestate lines are combined in order, empty ones
// ignored. Everything else (parsing, validation, injection) is the standard
// W3CTraceContextPropagator's job.

const { defaultTextMapGetter } = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

// A header may reach us as one string, as an array of lines, or not at all;
// each line may itself hold a comma-separated list.
function listMembers(raw) {
  const lines = Array.isArray(raw) ? raw : [raw];
  return lines
    .filter((line) => typeof line === 'string')
    .flatMap((line) => line.split(','))
    .map((member) => member.trim())
    .filter((member) => member !== '');
}

/**
 * The distinct traceparent values a carrier holds.
 * `conflicting` is true when there is more than one, i.e. when the carrier
 * must not be trusted as a parent. Shared with the middleware that reports
 * the rejection, so both always agree.
 */
function inspectTraceparent(carrier, getter = defaultTextMapGetter) {
  const values = [...new Set(listMembers(getter.get(carrier, TRACEPARENT)))];
  return { values, conflicting: values.length > 1 };
}

function combineTracestate(carrier, getter = defaultTextMapGetter) {
  return listMembers(getter.get(carrier, TRACESTATE)).join(',');
}

class StrictTraceContextPropagator {
  constructor() {
    this.w3c = new W3CTraceContextPropagator();
  }

  inject(context, carrier, setter) {
    this.w3c.inject(context, carrier, setter);
  }

  extract(context, carrier, getter) {
    const { values, conflicting } = inspectTraceparent(carrier, getter);
    if (values.length === 0 || conflicting) {
      return context;
    }
    const normalized = { [TRACEPARENT]: values[0] };
    const tracestate = combineTracestate(carrier, getter);
    if (tracestate !== '') {
      normalized[TRACESTATE] = tracestate;
    }
    return this.w3c.extract(context, normalized, defaultTextMapGetter);
  }

  fields() {
    return this.w3c.fields();
  }
}

module.exports = { StrictTraceContextPropagator, inspectTraceparent, combineTracestate };
