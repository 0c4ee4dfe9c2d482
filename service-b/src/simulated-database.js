'use strict';

// A database query that never reaches a database: it produces the CLIENT span
// a real PostgreSQL client instrumentation would (name "SELECT orders",
// db.* and server.* attributes), so the trace of /api/db-error looks like a
// real dependency failure. Whether it fails is decided by the caller through
// the simulation module's `fail` parameter.

const { trace, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const {
  ATTR_DB_SYSTEM_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} = require('@opentelemetry/semantic-conventions');
const { simulateLatency } = require('./simulate');

// The database the demo pretends to use. Nothing listens there.
const DATABASE = { address: 'orders-db', port: 5432 };
const ORDERS_QUERY = 'SELECT id, status, total FROM orders WHERE customer_id = $1';

const tracer = trace.getTracer('service-b/simulated-database');

class DatabaseConnectionError extends Error {
  constructor() {
    super(`connection to ${DATABASE.address}:${DATABASE.port} refused`);
    this.name = 'DatabaseConnectionError';
  }
}

/** Resolves to the (empty) rows, or throws DatabaseConnectionError when `fail`. */
function queryOrders({ delayMs, fail }) {
  const attributes = {
    [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
    [ATTR_DB_OPERATION_NAME]: 'SELECT',
    [ATTR_DB_COLLECTION_NAME]: 'orders',
    [ATTR_DB_QUERY_TEXT]: ORDERS_QUERY,
    [ATTR_SERVER_ADDRESS]: DATABASE.address,
    [ATTR_SERVER_PORT]: DATABASE.port,
  };
  return tracer.startActiveSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      await simulateLatency(delayMs);
      if (fail) {
        throw new DatabaseConnectionError();
      }
      return [];
    } catch (error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span.setAttribute(ATTR_ERROR_TYPE, error.name);
      throw error;
    } finally {
      span.end();
    }
  });
}

module.exports = { queryOrders, DatabaseConnectionError, DATABASE };
