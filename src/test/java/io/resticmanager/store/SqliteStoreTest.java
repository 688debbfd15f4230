package io.resticmanager.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resticmanager.config.Settings;
import io.resticmanager.support.TestDatabases;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on a real SQLite file. */
class SqliteStoreTest extends StoreContract {
  @TempDir Path dir;

  @Override
  Settings.Db newDatabase() {
    return TestDatabases.sqlite(dir);
  }

  @Test
  void sqliteRunsInWalModeWithFullSynchronousAndForeignKeys() {
    String[] pragmas = db.readNow(c -> {
      try (Statement s = c.createStatement()) {
        String[] out = new String[3];
        int i = 0;
        for (String p : new String[] {"journal_mode", "synchronous", "foreign_keys"}) {
          try (ResultSet rs = s.executeQuery("PRAGMA " + p)) {
            rs.next();
            out[i++] = rs.getString(1);
          }
        }
        return out;
      }
    });
    assertEquals("wal", pragmas[0].toLowerCase());
    assertEquals("2", pragmas[1], "synchronous=FULL is 2");
    assertEquals("1", pragmas[2]);
  }
}
