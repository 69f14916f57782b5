// Package pgservers gives tests and benchmarks real PostgreSQL + pgvector
// servers: the ones named in VECSHARD_PG_DSNS, or fresh ones started by
// scripts/pg-shards.sh (a chroot of Debian trixie's postgresql-17 and
// postgresql-17-pgvector, which needs root).
package pgservers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// EnvDSNs names servers of one's own, comma-separated, one DSN per server.
// They must be empty, or hold only what the tests may drop and recreate.
const EnvDSNs = "VECSHARD_PG_DSNS"

// SkipError says why this machine cannot run real servers; tests skip with
// its text.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Servers is a set of running servers.
type Servers struct {
	DSNs []string
	stop func() error
}

// Stop stops servers this package started; servers from EnvDSNs are left
// running.
func (s *Servers) Stop() error {
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

// Start returns n servers. With EnvDSNs set it returns its first n DSNs (an
// error when it names fewer); otherwise it runs scripts/pg-shards.sh start
// n, which replaces every server an earlier Start left running. It returns
// a *SkipError when the script says this machine cannot run servers.
func Start(n int) (*Servers, error) {
	if env := os.Getenv(EnvDSNs); env != "" {
		dsns := strings.Split(env, ",")
		if len(dsns) < n {
			return nil, fmt.Errorf("pgservers: %s names %d servers, the tests need %d", EnvDSNs, len(dsns), n)
		}
		return &Servers{DSNs: dsns[:n]}, nil
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(script, "start", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			return nil, &SkipError{Reason: msg}
		}
		return nil, fmt.Errorf("pgservers: %s start %d: %w\n%s", script, n, err, msg)
	}
	dsns := strings.Fields(stdout.String())
	if len(dsns) != n {
		return nil, fmt.Errorf("pgservers: %s start %d printed %d DSNs", script, n, len(dsns))
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			out, err := exec.Command(script, "stop").CombinedOutput()
			if err != nil {
				stopErr = fmt.Errorf("pgservers: %s stop: %w\n%s", script, err, out)
			}
		})
		return stopErr
	}
	return &Servers{DSNs: dsns, stop: stop}, nil
}

// scriptPath finds scripts/pg-shards.sh above the working directory (go
// test runs in the package's directory).
func scriptPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "pg-shards.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pgservers: scripts/pg-shards.sh not found above the working directory")
		}
		dir = parent
	}
}
