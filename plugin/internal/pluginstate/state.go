// Package pluginstate is what vecshard's two plugin libraries share: the
// one atomically swapped router (config and centroids), the logger, and the
// watcher that reloads the config when it or a centroid file changes. It
// has no cgo; the libraries' exported C functions wrap it.
package pluginstate

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vecshard/vecshard/config"
	"github.com/vecshard/vecshard/router"
)

// MinInterval is the shortest reload interval a plugin accepts.
const MinInterval = 10 * time.Millisecond

// Plugin is one loaded plugin: what the exported functions of a library
// share. Its methods are safe for concurrent use.
type Plugin struct {
	router atomic.Pointer[router.Router]
	logger atomic.Pointer[slog.Logger]
	opts   []router.Option

	mu       sync.Mutex // serializes Start, Stop and reloads
	watcher  *watcher
	onChange func() // after every change of the router; under mu
}

// New returns a plugin that loads its configs with opts and logs text to
// stderr at info level until SetLogger.
func New(opts ...router.Option) *Plugin {
	p := &Plugin{opts: opts}
	p.logger.Store(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	return p
}

// OnChange makes f run after every change of what Router returns (a
// config loaded, reloaded or stopped), before the change is logged. Set it
// before Start; f must not call back into p.
func (p *Plugin) OnChange(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onChange = f
}

func (p *Plugin) changed() {
	if p.onChange != nil {
		p.onChange()
	}
}

// Log returns the current logger.
func (p *Plugin) Log() *slog.Logger { return p.logger.Load() }

// SetLogger replaces the logger.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger.Store(l) }

// Router returns the router, nil while no config is loaded.
func (p *Plugin) Router() *router.Router { return p.router.Load() }

// Started reports whether Start has run (and Stop has not).
func (p *Plugin) Started() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.watcher != nil
}

// Start loads the config at path, logs the outcome, and watches the config
// and its centroid files every interval (at least MinInterval), reloading
// when one changes. It returns the load error: the plugin then routes
// nothing (the caller decides whether that is fatal), but keeps watching,
// so that fixing the file takes effect. A second Start is refused.
func (p *Plugin) Start(path string, interval time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	log := p.Log()
	if p.watcher != nil {
		log.Warn("vecshard: configured twice; ignoring the second config", "config", path)
		return errors.New("already configured")
	}
	w := &watcher{path: path, opts: p.opts, interval: max(interval, MinInterval), stop: make(chan struct{}), done: make(chan struct{})}
	snap, fp, err := w.load()
	w.last = fp
	if err != nil {
		log.Error("vecshard: config not loaded; every statement gets no decision until it is fixed",
			"config", path, "err", err)
	} else {
		p.router.Store(router.New(snap))
		p.changed()
		log.Info("vecshard: config loaded", append([]any{"config", path}, Describe(snap)...)...)
	}
	p.watcher = w
	go w.run(p)
	return err
}

// Stop stops the watcher and forgets the router.
func (p *Plugin) Stop() {
	p.mu.Lock()
	w := p.watcher
	p.watcher = nil
	p.router.Store(nil)
	p.changed()
	p.mu.Unlock()
	if w != nil {
		close(w.stop)
		<-w.done
		p.Log().Info("vecshard: stopped")
	}
}

func (p *Plugin) reload(w *watcher) {
	snap, fp, err := w.load()
	p.mu.Lock()
	defer p.mu.Unlock()
	w.last = fp
	if p.watcher != w {
		return // Stop ran meanwhile
	}
	log := p.Log()
	if err != nil {
		if p.router.Load() != nil {
			log.Error("vecshard: config changed but does not load; keeping the previous one", "config", w.path, "err", err)
		} else {
			log.Error("vecshard: config changed but does not load; every statement still gets no decision", "config", w.path, "err", err)
		}
		return
	}
	if r := p.router.Load(); r != nil {
		r.Swap(snap)
	} else {
		p.router.Store(router.New(snap))
	}
	p.changed()
	log.Info("vecshard: config reloaded", append([]any{"config", w.path}, Describe(snap)...)...)
}

// LogLevel maps a level name (VECSHARD_LOG, PgDog's log level) to a slog
// level; ok is false for a name it does not know.
func LogLevel(s string) (level slog.Level, ok bool) {
	switch s {
	case "debug", "trace":
		return slog.LevelDebug, true
	case "", "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error", "off":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

type watcher struct {
	path     string
	opts     []router.Option
	interval time.Duration
	last     fingerprint // of the files the current snapshot came from
	stop     chan struct{}
	done     chan struct{}
}

func (w *watcher) run(p *Plugin) {
	defer close(w.done)
	defer func() {
		if v := recover(); v != nil {
			p.Log().Error("vecshard: panic in the config watcher; reloading stops", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		last := w.last
		p.mu.Unlock()
		if !last.changed() {
			continue
		}
		p.reload(w)
	}
}

// load reads the config. The fingerprint is taken before the files are read,
// so a change that races with the load is seen again at the next check.
func (w *watcher) load() (*router.Snapshot, fingerprint, error) {
	fp := stat(config.Files(w.path))
	snap, err := router.Load(w.path, w.opts...)
	if err == nil && snap == nil {
		err = errors.New("router.Load returned no snapshot")
	}
	return snap, fp, err
}

// fileState is what the watcher compares: absent files count too, so a
// centroid file that appears is a change.
type fileState struct {
	path    string
	exists  bool
	size    int64
	modTime time.Time
}

// fingerprint is the state of every file a config depends on, config first.
type fingerprint []fileState

func stat(paths []string) fingerprint {
	fp := make(fingerprint, len(paths))
	for i, path := range paths {
		fp[i].path = path
		if fi, err := os.Stat(path); err == nil {
			fp[i] = fileState{path: path, exists: true, size: fi.Size(), modTime: fi.ModTime()}
		}
	}
	return fp
}

// changed reports whether any file differs from when fp was taken.
func (fp fingerprint) changed() bool {
	if len(fp) == 0 {
		return false
	}
	paths := make([]string, len(fp))
	for i := range fp {
		paths[i] = fp[i].path
	}
	return !slices.EqualFunc(fp, stat(paths), func(a, b fileState) bool {
		return a.exists == b.exists && a.size == b.size && a.modTime.Equal(b.modTime)
	})
}

// Describe summarizes a loaded snapshot for the log: its tables with their
// keys, the configured shard count, and each vector table's centroids.
func Describe(s *router.Snapshot) []any {
	var tables, cents []string
	for _, t := range s.Tables() {
		tables = append(tables, fmt.Sprintf("%s(%s)", t.Name, t.Key))
		if t.Set != nil {
			cents = append(cents, fmt.Sprintf("%s: k=%d dim=%d shards=%d metric=%s probes=%d",
				t.Name, t.Set.K(), t.Set.Dim(), t.Set.Shards(), t.Metric, t.Probes))
		}
	}
	attrs := []any{"tables", tables}
	if s.Shards() != 0 {
		attrs = append(attrs, "shards", s.Shards())
	}
	if cents != nil {
		attrs = append(attrs, "centroids", cents)
	}
	return attrs
}
