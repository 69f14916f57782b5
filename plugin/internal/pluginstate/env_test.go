package pluginstate

import (
	"log/slog"
	"testing"
	"time"
)

// lookup is an environment of the given variables.
func lookup(vars map[string]string) Env {
	return func(name string) string { return vars[name] }
}

func TestEnv(t *testing.T) {
	unset := lookup(nil)
	if unset.ConfigPath() != "" || unset.KernelOff() {
		t.Error("unset: a config path or the kernel off")
	}
	if level, ok := unset.LogLevel(); level != slog.LevelInfo || !ok {
		t.Errorf("unset: log level %v, %v; want info", level, ok)
	}
	if d, err := unset.ReloadInterval(); d != DefaultInterval || err != nil {
		t.Errorf("unset: interval %v, %v; want %v", d, err, DefaultInterval)
	}

	set := lookup(map[string]string{EnvConfig: "/etc/vecshard.toml", EnvLog: "debug", EnvInterval: "250ms", EnvKernel: "0"})
	if set.ConfigPath() != "/etc/vecshard.toml" || !set.KernelOff() {
		t.Error("set: config path or kernel switch not read")
	}
	if level, ok := set.LogLevel(); level != slog.LevelDebug || !ok {
		t.Errorf("set: log level %v, %v; want debug", level, ok)
	}
	if d, err := set.ReloadInterval(); d != 250*time.Millisecond || err != nil {
		t.Errorf("set: interval %v, %v; want 250ms", d, err)
	}

	bad := lookup(map[string]string{EnvLog: "loud", EnvInterval: "often", EnvKernel: "1"})
	if level, ok := bad.LogLevel(); level != slog.LevelInfo || ok {
		t.Errorf("bad: log level %v, %v; want info, not ok", level, ok)
	}
	if d, err := bad.ReloadInterval(); d != DefaultInterval || err == nil {
		t.Errorf("bad: interval %v, %v; want %v and an error", d, err, DefaultInterval)
	}
	if bad.KernelOff() {
		t.Error("VECSHARD_KERNEL=1 turns the kernel off")
	}
}
