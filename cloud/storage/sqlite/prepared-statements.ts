// node:sqlite compiles SQL on every prepare(); the registry's hot paths (replication, last-seen,
// identification's template reads) run the same few statements thousands of times a second, so
// each connection keeps its compiled statements. Not for iterate() over a statement a suspended
// generator may still be reading: a second iterate() of the same statement would reset it.
import type { DatabaseSync, StatementSync } from "node:sqlite";

const byConnection = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

export const prepared = (db: DatabaseSync, sql: string): StatementSync => {
  let statements = byConnection.get(db);
  if (statements === undefined) {
    statements = new Map();
    byConnection.set(db, statements);
  }
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
};
