package direct

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// slogFactory routes pion's logs to a slog.Logger (pion's default logger would print to
// stderr). Trace messages are dropped; pion's debug messages go out at slog's debug level.
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{log: f.log.With("pion", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) logf(level slog.Level, format string, args ...any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, fmt.Sprintf(format, args...))
}

func (slogLogger) Trace(string)                {}
func (slogLogger) Tracef(string, ...any)       {}
func (l slogLogger) Debug(msg string)          { l.logf(slog.LevelDebug, "%s", msg) }
func (l slogLogger) Debugf(f string, a ...any) { l.logf(slog.LevelDebug, f, a...) }
func (l slogLogger) Info(msg string)           { l.logf(slog.LevelDebug, "%s", msg) }
func (l slogLogger) Infof(f string, a ...any)  { l.logf(slog.LevelDebug, f, a...) }
func (l slogLogger) Warn(msg string)           { l.logf(slog.LevelWarn, "%s", msg) }
func (l slogLogger) Warnf(f string, a ...any) {
	// pion/sctp v1.12 sends HEARTBEAT chunks without their parameter (chunkHeartbeat's
	// Marshal is never called; the embedded header's marshal is), and the receiving pion
	// warns about each one. The heartbeats still do their job here (liveness counts any
	// arriving byte), so this is not worth a warning per second per connection.
	if strings.Contains(f, "Heartbeat without ParamHeartbeatInfo") {
		l.logf(slog.LevelDebug, f, a...)
		return
	}
	l.logf(slog.LevelWarn, f, a...)
}
func (l slogLogger) Error(msg string)          { l.logf(slog.LevelError, "%s", msg) }
func (l slogLogger) Errorf(f string, a ...any) { l.logf(slog.LevelError, f, a...) }

// discardLogger returns l, or a logger that discards everything when l is nil.
func discardLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
