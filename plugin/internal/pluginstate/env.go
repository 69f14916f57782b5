package pluginstate

import (
	"fmt"
	"log/slog"
	"time"
)

// The environment variables the plugin libraries read. The vtable library
// reads VECSHARD_RUSTC_VERSION and VECSHARD_SIGNAL_FIX too, which only it
// has a use for.
const (
	// EnvConfig is the config path (the vtable library: when pgdog.toml
	// names none).
	EnvConfig = "VECSHARD_CONFIG"
	// EnvLog is the log level of the C ABI library (the vtable library
	// follows PgDog's); LogLevel's names.
	EnvLog = "VECSHARD_LOG"
	// EnvInterval is how often the watcher stats the config files, a
	// time.ParseDuration string; DefaultInterval when unset.
	EnvInterval = "VECSHARD_RELOAD_INTERVAL"
	// EnvKernel = "0" routes every call in Go, none in the vtable
	// library's C kernel: for comparisons and as a kill switch.
	EnvKernel = "VECSHARD_KERNEL"
)

// DefaultInterval is how often the watcher stats the config and centroid
// files when EnvInterval is not set.
const DefaultInterval = time.Second

// Env reads the plugin's environment variables through a lookup that
// returns "" for an unset variable: os.Getenv, or, in the vtable library,
// C getenv of the live process environment.
type Env func(name string) string

// ConfigPath is the config path EnvConfig names; "" when unset.
func (e Env) ConfigPath() string { return e(EnvConfig) }

// LogLevel is the level EnvLog names (info when unset); ok is false for a
// name LogLevel does not know, and the level is then info.
func (e Env) LogLevel() (level slog.Level, ok bool) { return LogLevel(e(EnvLog)) }

// ReloadInterval is the interval EnvInterval sets, DefaultInterval when it
// is unset. A value time.ParseDuration cannot read is an error wrapping
// the parser's, with DefaultInterval.
func (e Env) ReloadInterval() (time.Duration, error) {
	s := e(EnvInterval)
	if s == "" {
		return DefaultInterval, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return DefaultInterval, fmt.Errorf("%s=%q: %w", EnvInterval, s, err)
	}
	return d, nil
}

// KernelOff reports whether EnvKernel turns the vtable library's C kernel
// off: "0" does, anything else leaves it on.
func (e Env) KernelOff() bool { return e(EnvKernel) == "0" }
