package io.resticmanager.agent;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Collects what a logger (and the loggers below it) writes at the level the test configuration lets
 * through (WARN and above), as {@code LEVEL logger-name - message} lines; safe to read while the agent's
 * threads log. Detached by {@link #close()}.
 */
final class LogLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final Logger logger;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  LogLines(Class<?> of) {
    this.logger = (Logger) LoggerFactory.getLogger(of);
    setContext(logger.getLoggerContext());
    start();
    logger.addAppender(this);
  }

  @Override
  protected void append(ILoggingEvent e) {
    lines.add(e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage());
  }

  /** The lines so far that contain {@code text}. */
  List<String> containing(String text) {
    return lines.stream().filter(l -> l.contains(text)).toList();
  }

  List<String> all() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
