package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/vecshard/vecshard/plugin/internal/pluginstate"
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
// files.
const defaultInterval = time.Second

// global is the plugin's one instance: a C ABI has no handle to carry state,
// so the process-wide library is the state. Everything else hangs off it.
var global = newPlugin()

// plugin is the state behind the exported functions: the shared plugin
// state (router, logger, watcher) with the SQL-text front end, since this
// ABI passes query text, and the interned ERROR strings.
type plugin struct {
	*pluginstate.Plugin
	strings *internTable
}

func newPlugin() *plugin {
	return &plugin{Plugin: pluginstate.New(router.WithText(sqltext.Parser{})), strings: newInternTable(maxInterned)}
}

func (p *plugin) log() *slog.Logger { return p.Log() }

// init configures logging from VECSHARD_LOG and starts the plugin with the
// config VECSHARD_CONFIG names. A missing or bad config is logged; the
// plugin then answers NO_DECISION (and keeps watching a bad file).
func (p *plugin) init() {
	level, ok := pluginstate.LogLevel(os.Getenv(envLog))
	p.SetLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	log := p.log()
	if !ok {
		log.Warn("vecshard: unknown log level; using info", "env", envLog, "value", os.Getenv(envLog))
	}
	if p.Started() {
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
			interval = d
		}
	}
	_ = p.Start(path, interval) // logged by Start
}

func (p *plugin) fini() { p.Stop() }
