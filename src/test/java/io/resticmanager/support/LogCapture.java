package io.resticmanager.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records what one class logs at INFO and above while open, whatever the tests' logback configuration
 * lets through to the console; closing restores the logger.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final Level previous;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Class<?> source) {
    logger = (Logger) LoggerFactory.getLogger(source);
    previous = logger.getLevel();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO);
  }

  public static LogCapture of(Class<?> source) {
    return new LogCapture(source);
  }

  /** The formatted messages logged at {@code level} so far. */
  public List<String> messages(Level level) {
    synchronized (appender) { // AppenderBase appends while holding the appender's lock
      return appender.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(previous);
    appender.stop();
  }
}
