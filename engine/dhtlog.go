package engine

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	alog "github.com/anacrolix/log"
)

// The DHT library logs through its package-wide default logger, not the
// one in its server config: every malformed packet anyone sends to the DHT
// port became two lines on stderr (20,000 packets made 4,818 lines). Its
// default logger is therefore pointed, once per process, at a handler that
// counts those lines and passes them on at debug level through the
// newest engine's rate-limited log.

var (
	dhtLogOnce  sync.Once
	dhtLogSink  atomic.Pointer[slog.Logger]
	dhtLogLines atomic.Int64 // lines the DHT library logged, process-wide
)

// routeDHTLog installs the handler (once) and makes l the sink.
func routeDHTLog(l *slog.Logger) {
	dhtLogOnce.Do(func() {
		d := alog.Default
		d.Handlers = []alog.Handler{dhtLogHandler{}}
		alog.Default = d
	})
	dhtLogSink.Store(l)
}

type dhtLogHandler struct{}

// Handle implements alog.Handler.
func (dhtLogHandler) Handle(r alog.Record) {
	dhtLogLines.Add(1)
	if l := dhtLogSink.Load(); l != nil {
		text := r.Msg.String()
		msg := "DHT library message"
		if strings.Contains(text, "received bad krpc message") {
			msg = "malformed DHT packet"
		}
		l.Debug(msg, "text", clipText(text))
	}
}
