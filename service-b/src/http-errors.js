'use strict';

// An error that knows its HTTP answer. Handlers throw it; the error handler
// (middleware/error-handler.js) turns it into the contract's JSON error body
// and, for 5xx, marks the server span failed with the underlying cause.

class HttpError extends Error {
  /**
   * @param {number} status   HTTP status of the answer
   * @param {string} code     machine code for the body's "error" field
   * @param {string} message  human text for the body's "message" field
   * @param {object} [options]
   * @param {Error}  [options.cause]   the failure behind it (recorded on the span)
   * @param {object} [options.details] extra body fields (e.g. "results")
   */
  constructor(status, code, message, { cause, details } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details ?? {};
  }
}

const badRequest = (code, message) => new HttpError(400, code, message);

module.exports = { HttpError, badRequest };
