package main

import (
	"log/slog"
	"os"

	"github.com/vecshard/vecshard/plugin/internal/pluginstate"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

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
// config VECSHARD_CONFIG names (pluginstate.Env). A missing or bad config
// is logged; the plugin then answers NO_DECISION (and keeps watching a bad
// file).
func (p *plugin) init() {
	env := pluginstate.Env(os.Getenv)
	level, ok := env.LogLevel()
	p.SetLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	log := p.log()
	if !ok {
		log.Warn("vecshard: unknown log level; using info", "env", pluginstate.EnvLog, "value", env(pluginstate.EnvLog))
	}
	if p.Started() {
		log.Warn("vecshard: pgdog_init called twice; ignoring the second call")
		return
	}
	path := env.ConfigPath()
	if path == "" {
		log.Error("vecshard: no config: " + pluginstate.EnvConfig + " is not set; every statement gets NO_DECISION")
		return
	}
	interval, err := env.ReloadInterval()
	if err != nil {
		log.Warn("vecshard: bad reload interval; using default", "env", pluginstate.EnvInterval, "value", env(pluginstate.EnvInterval), "default", interval)
	}
	_ = p.Start(path, interval) // logged by Start
}

func (p *plugin) fini() { p.Stop() }
