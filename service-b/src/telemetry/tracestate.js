'use strict';

// tracestate as W3C Trace Context Level 2 defines it, validated as a whole.
//
// The standard propagator's TraceState repairs what it receives: it drops
// members it finds invalid one by one, keeps only the first 32 and cuts the
// list at 512 characters, and its key grammar is Level 1's (so it silently
// drops Level 2 keys such as `foo@` or `t@vvvvvvvvvvvvvvv`). Here the combined
// list is either valid and kept whole, or discarded whole.

// Level 2 ABNF: key = ( lcalpha / DIGIT ) 0*255 ( keychar ),
// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@".
const KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
// value = 0*255( chr ) nblk-chr, chr = %x20 / nblk-chr,
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E (printable ASCII but "," and "=").
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_MEMBERS = 32;

// Optional white space around list members is spaces and tabs only.
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The list members of tracestate header lines, combined in order; empty ones
 * dropped. One at a time, so that parseTracestate stops reading at the limit.
 */
function* tracestateMembers(lines) {
  for (const line of lines) {
    for (const [member] of line.matchAll(/[^,]+/g)) {
      const trimmed = member.replace(OWS, '');
      if (trimmed !== '') {
        yield trimmed;
      }
    }
  }
}

/**
 * The [key, value] pairs of `members` (any iterable, read no further than one
 * member past the limit), or undefined when the list breaks a rule (too many
 * members, a member without "=", a bad key or value). A key that appears
 * again keeps its first value: Level 2 lets a vendor discard duplicate keys,
 * and the W3C test suite expects the list to be kept.
 */
function parseTracestate(members) {
  const entries = new Map();
  let count = 0;
  for (const member of members) {
    count += 1;
    if (count > MAX_MEMBERS) {
      return undefined;
    }
    const separator = member.indexOf('=');
    const key = member.slice(0, separator);
    const value = member.slice(separator + 1);
    if (separator === -1 || !KEY.test(key) || !VALUE.test(value)) {
      return undefined;
    }
    if (!entries.has(key)) {
      entries.set(key, value);
    }
  }
  return entries;
}

/**
 * An immutable TraceState (the @opentelemetry/api interface) holding an
 * already validated list, serialized in the order received. set() follows
 * the spec's mutation rule (a new or updated key moves to the front).
 */
class ValidatedTraceState {
  constructor(entries) {
    this.entries = new Map(entries);
  }

  get(key) {
    return this.entries.get(key);
  }

  set(key, value) {
    if (!KEY.test(key) || !VALUE.test(value)) {
      return this;
    }
    const rest = [...this.entries].filter(([existing]) => existing !== key);
    return new ValidatedTraceState([[key, value], ...rest].slice(0, MAX_MEMBERS));
  }

  unset(key) {
    return new ValidatedTraceState([...this.entries].filter(([existing]) => existing !== key));
  }

  serialize() {
    return [...this.entries].map(([key, value]) => `${key}=${value}`).join(',');
  }
}

module.exports = { tracestateMembers, parseTracestate, ValidatedTraceState, MAX_MEMBERS };
