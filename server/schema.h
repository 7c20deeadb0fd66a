// The database schema and its numbered migrations.
//
// Migrations are an ordered list; migration N moves the schema from version
// N-1 to N and runs in one transaction together with the bump of
// PRAGMA user_version, so a crash mid-migration leaves the old version intact.
// Never edit a released migration: append a new one.
#ifndef SKILLSTORE_SERVER_SCHEMA_H_
#define SKILLSTORE_SERVER_SCHEMA_H_

#include "absl/status/status.h"
#include "sqlite.h"

namespace skillstore::server {

// The schema version this build writes.
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(). Fails with
// FailedPrecondition when the file was written by a newer build.
absl::Status MigrateSchema(Db& db);

// Brings the database up to `target_version` only (tests build old schemas
// with it to check the upgrade).
absl::Status MigrateSchema(Db& db, int target_version);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SCHEMA_H_
