// One write transaction on a node:sqlite connection: BEGIN IMMEDIATE takes the write lock up front
// (no upgrade deadlock with another connection, e.g. `palmline provision-code` while the node
// runs), COMMIT on success, ROLLBACK and rethrow on any error.
import type { DatabaseSync } from "node:sqlite";

export const writeTransaction = <T>(db: DatabaseSync, work: () => T): T => {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
};
