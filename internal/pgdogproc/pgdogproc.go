// Package pgdogproc runs a real PgDog binary in front of a set of servers,
// for the end-to-end tests (e2e/shards) and the benchmarks (bench): it
// writes pgdog.toml and users.toml, starts PgDog on a free loopback port
// with the plugin library's directory on LD_LIBRARY_PATH, waits until it
// serves and stops it with SIGINT (which calls the plugins' fini).
package pgdogproc

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvBin names a PgDog binary; tests and benchmarks that need one skip
// without it.
const EnvBin = "PGDOG"

// Table is one [[sharded_tables]] entry of the database "app".
type Table struct {
	Name, Column, DataType string
	CentroidsPath          string // data_type vector: PgDog's bare centroid array ("": none)
	CentroidProbes         int    // with CentroidsPath (0: PgDog's default)
}

// Config is what pgdog.toml says.
type Config struct {
	Port int
	// General is extra [general] lines ("key = value\n"), after host, port,
	// workers = 2 and min_pool_size = 0.
	General string
	// Plugin is vecshard's configuration file; "" loads no plugin.
	Plugin string
	// Shards are the servers' DSNs, shard 0 first, all in database "app".
	Shards []string
	Tables []Table
}

// Toml is the pgdog.toml for c.
func (c Config) Toml() (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "[general]\nhost = \"127.0.0.1\"\nport = %d\nworkers = 2\nmin_pool_size = 0\n%s\n", c.Port, c.General)
	if c.Plugin != "" {
		fmt.Fprintf(&b, "[[plugins]]\nname = \"vecshard\"\nconfig = %q\n\n", c.Plugin)
	}
	for i, dsn := range c.Shards {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "[[databases]]\nname = \"app\"\nhost = %q\nport = %s\ndatabase_name = %q\nshard = %d\n\n",
			u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), i)
	}
	for i, t := range c.Tables {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[[sharded_tables]]\ndatabase = \"app\"\nname = %q\ncolumn = %q\ndata_type = %q\n", t.Name, t.Column, t.DataType)
		if t.CentroidsPath != "" {
			fmt.Fprintf(&b, "centroids_path = %q\n", t.CentroidsPath)
		}
		if t.CentroidProbes > 0 {
			fmt.Fprintf(&b, "centroid_probes = %d\n", t.CentroidProbes)
		}
	}
	return b.String(), nil
}

// Users is the users.toml every PgDog here gets: vecshard/vecshard on
// "app", connecting to the servers as postgres.
const Users = "[[users]]\nname = \"vecshard\"\ndatabase = \"app\"\npassword = \"vecshard\"\nserver_user = \"postgres\"\n"

// Log collects PgDog's output, or a plugin's log in its unit tests: Write
// and String are safe for concurrent use.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Proc is a running PgDog.
type Proc struct {
	Cmd  *exec.Cmd
	Log  *Log
	Dir  string
	Toml string // its pgdog.toml
	Port int
	Pool *pgxpool.Pool // to "app" as vecshard, pool_max_conns=40

	exited   chan struct{}
	stop     func()
	stopOnce sync.Once
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Options say how to start PgDog.
type Options struct {
	Bin    string // the PgDog binary
	Dir    string // its working directory, where pgdog.toml and users.toml go
	Config Config // Port 0: a free port
	LibDir string // LD_LIBRARY_PATH (where libvecshard.so is)
	Env    []string
	Wait   time.Duration // how long to wait for it to serve (0: 30 s)
}

// Start writes the files, starts PgDog and waits until a pool to it pings.
// The process's environment goes to PgDog without GLIBC_TUNABLES (none is
// needed) and with LD_LIBRARY_PATH replaced by LibDir. On error PgDog is
// stopped and the error carries its log.
func Start(o Options) (*Proc, error) {
	if o.Config.Port == 0 {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		o.Config.Port = port
	}
	text, err := o.Config.Toml()
	if err != nil {
		return nil, err
	}
	p := &Proc{Dir: o.Dir, Log: &Log{}, Port: o.Config.Port}
	p.Toml = filepath.Join(o.Dir, "pgdog.toml")
	if err := os.WriteFile(p.Toml, []byte(text), 0o644); err != nil {
		return nil, err
	}
	users := filepath.Join(o.Dir, "users.toml")
	if err := os.WriteFile(users, []byte(Users), 0o644); err != nil {
		return nil, err
	}
	p.Cmd = exec.Command(o.Bin, "--config", p.Toml, "--users", users)
	p.Cmd.Dir = o.Dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GLIBC_TUNABLES=") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			p.Cmd.Env = append(p.Cmd.Env, kv)
		}
	}
	p.Cmd.Env = append(p.Cmd.Env, "LD_LIBRARY_PATH="+o.LibDir)
	p.Cmd.Env = append(p.Cmd.Env, o.Env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	p.exited = exited
	go func() { p.Cmd.Wait(); close(exited) }()
	p.stop = func() {
		p.Cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			p.Cmd.Process.Kill()
			<-exited
		}
	}
	wait := o.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	ctx := context.Background()
	dsn := fmt.Sprintf("postgres://vecshard:vecshard@127.0.0.1:%d/app?sslmode=disable&pool_max_conns=40", p.Port)
	deadline := time.Now().Add(wait)
	for {
		p.Pool, err = pgxpool.New(ctx, dsn)
		if err == nil {
			if err = p.Pool.Ping(ctx); err == nil {
				return p, nil
			}
			p.Pool.Close()
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("PgDog exited (%v) before serving on port %d: %v\n%s", p.Cmd.ProcessState, p.Port, err, p.Log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.stopOnce.Do(p.stop)
			return nil, fmt.Errorf("PgDog did not serve on port %d: %v\n%s", p.Port, err, p.Log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Exited reports whether PgDog has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop closes the pool and stops PgDog: SIGINT, then SIGKILL after 10 s.
func (p *Proc) Stop() {
	if p.Pool != nil {
		p.Pool.Close()
	}
	p.stopOnce.Do(p.stop)
}
