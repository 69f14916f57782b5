package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

// Environment variables the plugin reads at pgdog_init.
const (
	envConfig   = "VECSHARD_CONFIG"
	envLog      = "VECSHARD_LOG"
	envInterval = "VECSHARD_RELOAD_INTERVAL"
)

// defaultInterval is how often the watcher stats the config and centroid
// files; minInterval is the floor for VECSHARD_RELOAD_INTERVAL.
const (
	defaultInterval = time.Second
	minInterval     = 10 * time.Millisecond
)

// global is the plugin's one instance: a C ABI has no handle to carry state,
// so the process-wide library is the state. Everything else hangs off it.
var global = newPlugin()

// plugin is the state behind the exported functions.
type plugin struct {
	// router is nil until a config loads and after pgdog_fini; route calls
	// read it once, lock-free.
	router  atomic.Pointer[router.Router]
	logger  atomic.Pointer[slog.Logger]
	strings *internTable

	mu      sync.Mutex // serializes init, fini and reloads
	watcher *watcher
}

func newPlugin() *plugin {
	p := &plugin{strings: newInternTable(maxInterned)}
	p.logger.Store(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	return p
}

func (p *plugin) log() *slog.Logger { return p.logger.Load() }

// init reads the environment, loads the config and starts the watcher. A
// config that fails to load is reported once; route calls then answer
// NO_DECISION, and the watcher keeps looking for a fixed file.
func (p *plugin) init() {
	p.mu.Lock()
	defer p.mu.Unlock()
	level, ok := logLevel(os.Getenv(envLog))
	p.logger.Store(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	log := p.log()
	if !ok {
		log.Warn("vecshard: unknown log level; using info", "env", envLog, "value", os.Getenv(envLog))
	}
	if p.watcher != nil {
		log.Warn("vecshard: pgdog_init called twice; ignoring the second call")
		return
	}
	path := os.Getenv(envConfig)
	if path == "" {
		log.Error("vecshard: no config: " + envConfig + " is not set; every statement gets NO_DECISION")
		return
	}
	interval := defaultInterval
	if s := os.Getenv(envInterval); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			log.Warn("vecshard: bad reload interval; using default", "env", envInterval, "value", s, "default", interval)
		} else {
			interval = max(d, minInterval)
		}
	}
	w := &watcher{path: path, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	snap, fp, err := w.load()
	w.last = fp
	if err != nil {
		log.Error("vecshard: config not loaded; every statement gets NO_DECISION until it is fixed",
			"config", path, "err", err)
	} else {
		p.router.Store(router.New(snap))
		log.Info("vecshard: config loaded", append([]any{"config", path}, describe(snap)...)...)
	}
	p.watcher = w
	go w.run(p)
}

// fini stops the watcher; route calls after it answer NO_DECISION.
func (p *plugin) fini() {
	p.mu.Lock()
	w := p.watcher
	p.watcher = nil
	p.router.Store(nil)
	p.mu.Unlock()
	if w != nil {
		close(w.stop)
		<-w.done
		p.log().Info("vecshard: stopped")
	}
}

// reload is the watcher's answer to a changed file: load the config again and
// swap it in, or keep the old snapshot when the new files are bad.
func (p *plugin) reload(w *watcher) {
	snap, fp, err := w.load()
	p.mu.Lock()
	defer p.mu.Unlock()
	w.last = fp
	if p.watcher != w {
		return // fini ran meanwhile
	}
	log := p.log()
	if err != nil {
		if p.router.Load() != nil {
			log.Error("vecshard: config changed but does not load; keeping the previous one", "config", w.path, "err", err)
		} else {
			log.Error("vecshard: config changed but does not load; every statement still gets NO_DECISION", "config", w.path, "err", err)
		}
		return
	}
	if r := p.router.Load(); r != nil {
		r.Swap(snap)
	} else {
		p.router.Store(router.New(snap))
	}
	log.Info("vecshard: config reloaded", append([]any{"config", w.path}, describe(snap)...)...)
}

// watcher notices changes to the config file and the centroid files it
// names by their size and modification time, so the check costs a few
// stat calls per interval and never touches the route path.
type watcher struct {
	path     string
	interval time.Duration
	last     fingerprint // of the files the current snapshot came from
	stop     chan struct{}
	done     chan struct{}
}

func (w *watcher) run(p *plugin) {
	defer close(w.done)
	defer recoverTo("config watcher", nil)
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
	fp := stat(configFiles(w.path))
	snap, err := router.Load(w.path, router.WithText(sqltext.Parser{}))
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

// fileConfig is the part of the config file the watcher needs. The router
// owns the format and its validation; this only finds the centroid files.
type fileConfig struct {
	Tables []struct {
		Centroids string `toml:"centroids"`
	} `toml:"tables"`
}

func readFileConfig(path string) (*fileConfig, error) {
	var c fileConfig
	if _, err := toml.DecodeFile(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// configFiles lists the config file and the centroid files it names, resolved
// as the router resolves them (relative to the config's directory). An
// unreadable config yields just itself: fixing it is the change to wait for.
func configFiles(path string) []string {
	files := []string{path}
	c, err := readFileConfig(path)
	if err != nil {
		return files
	}
	for _, t := range c.Tables {
		if t.Centroids == "" {
			continue
		}
		f := t.Centroids
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(path), f)
		}
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	return files
}

// describe summarizes a loaded snapshot for the log: its tables with their
// keys, the configured shard count, and each vector table's centroids.
func describe(s *router.Snapshot) []any {
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
