'use strict';

// W3C Trace Context with the rules the standard propagator leaves out
// (docs/contract.md, "Duplicate / conflicting traceparent" and "tracestate"):
//
// - Two *different* traceparent values (as separate header lines, which Node
//   joins with ", ", or as one comma-joined line) are invalid input: the
//   request starts a new trace rather than pick one of them. Identical
//   duplicates count as one.
// - tracestate lines are combined in order and validated as a whole
//   (Level 2 rules, telemetry/tracestate.js); an invalid list is dropped
//   whole while the traceparent is still continued.
// - The Level 2 random flag (0x02) of an accepted traceparent is carried
//   onto outgoing calls. The SDK's Tracer rebuilds every span's trace flags
//   from the sampling decision alone (SAMPLED or NONE), so the bit is lost on
//   the first local span, sampled or not. Extract therefore remembers, in the
//   context, which trace id arrived with the flag, and inject sets it again
//   for that trace.
// Parsing and writing traceparent stay the standard W3CTraceContextPropagator's job.

const { createContextKey, defaultTextMapGetter, trace } = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { tracestateMembers, parseTracestate, ValidatedTraceState } = require('./tracestate');

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const RANDOM_TRACE_FLAG = 0x02;
const RANDOM_TRACE_ID_KEY = createContextKey('service-b random trace id');

// A header may reach us as one string, as an array of lines, or not at all.
function headerLines(raw) {
  return (Array.isArray(raw) ? raw : [raw]).filter((line) => typeof line === 'string');
}

/**
 * The distinct traceparent values a carrier holds.
 * `conflicting` is true when there is more than one, i.e. when the carrier
 * must not be trusted as a parent. Shared with the middleware that reports
 * the rejection, so both always agree.
 */
function inspectTraceparent(carrier, getter = defaultTextMapGetter) {
  const members = headerLines(getter.get(carrier, TRACEPARENT))
    .flatMap((line) => line.split(','))
    .map((member) => member.trim())
    .filter((member) => member !== '');
  const values = [...new Set(members)];
  return { values, conflicting: values.length > 1 };
}

/** The carrier's tracestate lines as one validated TraceState, or undefined (absent or invalid). */
function readTracestate(carrier, getter = defaultTextMapGetter) {
  const entries = parseTracestate(tracestateMembers(headerLines(getter.get(carrier, TRACESTATE))));
  return entries?.size > 0 ? new ValidatedTraceState(entries) : undefined;
}

/** Trace flags to send for `spanContext` in `context`: its own, plus the random flag it arrived with. */
function outgoingTraceFlags(context, spanContext) {
  const random = context.getValue(RANDOM_TRACE_ID_KEY) === spanContext.traceId;
  return random ? spanContext.traceFlags | RANDOM_TRACE_FLAG : spanContext.traceFlags;
}

class StrictTraceContextPropagator {
  constructor() {
    this.w3c = new W3CTraceContextPropagator();
  }

  inject(context, carrier, setter) {
    const spanContext = trace.getSpanContext(context);
    if (spanContext) {
      const traceFlags = outgoingTraceFlags(context, spanContext);
      if (traceFlags !== spanContext.traceFlags) {
        context = trace.setSpanContext(context, { ...spanContext, traceFlags });
      }
    }
    this.w3c.inject(context, carrier, setter);
  }

  extract(context, carrier, getter) {
    const { values, conflicting } = inspectTraceparent(carrier, getter);
    if (values.length === 0 || conflicting) {
      return context;
    }
    const extracted = this.w3c.extract(context, { [TRACEPARENT]: values[0] }, defaultTextMapGetter);
    if (extracted === context) {
      return context; // an invalid traceparent: a new trace, no tracestate
    }
    const parent = trace.getSpanContext(extracted);
    let result = trace.setSpanContext(extracted, { ...parent, traceState: readTracestate(carrier, getter) });
    if (parent.traceFlags & RANDOM_TRACE_FLAG) {
      result = result.setValue(RANDOM_TRACE_ID_KEY, parent.traceId);
    }
    return result;
  }

  fields() {
    return this.w3c.fields();
  }
}

module.exports = { StrictTraceContextPropagator, inspectTraceparent, readTracestate, outgoingTraceFlags };
