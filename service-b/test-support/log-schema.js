'use strict';

// The project's log-line schema (observability/log-schema.json), compiled once.

const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');

const schema = require(path.join(__dirname, '..', '..', 'observability', 'log-schema.json'));
const validate = new Ajv2020({ allErrors: true }).compile(schema);

/** Throws with the schema errors when `line` (a string) is not a valid log line. */
function assertValidLogLine(line) {
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`not JSON: ${JSON.stringify(line)}`);
  }
  if (!validate(parsed)) {
    throw new Error(`invalid log line ${line}: ${JSON.stringify(validate.errors)}`);
  }
  return parsed;
}

module.exports = { assertValidLogLine };
