package io.resticmanager;

/** Command line entry point: {@code serve | agent | demo | version}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    BuildInfo b = BuildInfo.current();
    System.out.println("restic-manager " + b.version() + " (revision " + b.revision() + ", Java " + b.javaVersion() + ")");
  }
}
