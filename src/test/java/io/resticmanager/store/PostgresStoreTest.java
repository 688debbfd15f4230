package io.resticmanager.store;

import io.resticmanager.config.Settings;
import io.resticmanager.support.TestDatabases;

/** The store contract on the real PostgreSQL of development and CI machines, in a fresh schema. */
class PostgresStoreTest extends StoreContract {
  @Override
  Settings.Db newDatabase() {
    return TestDatabases.freshPostgresSchema();
  }

  @Override
  void dropDatabase() {
    TestDatabases.dropPostgresSchema(settings);
  }
}
