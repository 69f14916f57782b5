package pgdogexec

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Kind is what PgDog acts on after a route call.
type Kind int

// The kinds of decision.
const (
	Shard      Kind = iota // one shard (Decision.Shard)
	All                    // every shard
	Unknown                // the plugin left it to PgDog
	Blocked                // the plugin refused it: 42601 for the client
	NoCall                 // PgDog does not call the plugin for this request
	ParseError             // PgDog's parser rejects it
)

func (k Kind) String() string {
	return [...]string{"shard", "all", "unknown", "blocked", "nocall", "parse_error"}[k]
}

// Decision is one routing answer, as the host reports it.
type Decision struct {
	Kind  Kind
	Shard int    // for Kind Shard
	Write bool   // read_write 0; Unknown read_write counts as read
	Note  string // NOCALL's reason, PARSE_ERROR's message, BLOCKED's client error
}

func (d Decision) String() string {
	rw := "read"
	if d.Write {
		rw = "write"
	}
	if d.Kind == Shard {
		return fmt.Sprintf("shard %d %s", d.Shard, rw)
	}
	return d.Kind.String() + " " + rw
}

// Call is one route call's input: the SQL and the parameters exactly as the
// client sends them in Bind (format codes by Bind's rules).
type Call struct {
	SQL     string
	Params  [][]byte // nil element: SQL NULL
	Formats []int16
	Write   bool // PgDog's write_override for this request
	InTx    bool
	// Simple is a simple-protocol Query; otherwise a Bind.
	Simple bool
	// NoBind is a Parse or Describe without a Bind: PgDog does not call.
	NoBind bool
}

// Router answers route calls.
type Router interface {
	Route(shards int, c Call) (Decision, error)
}

// Host is a running `pgdog-host serve`: the real plugin library loaded into
// the PgDog-like Rust host, called with PgDog's own PostgreSQL 18 parse of
// each statement. Safe for concurrent use; calls are serialised on the pipe.
type Host struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	in   *bufio.Writer
	inc  io.Closer
	out  *bufio.Reader
	next uint64
}

// StartHost starts path (build/pgdog-host) in serve mode with the plugin
// named as PgDog's [[plugins]] name (a path with an extension is loaded as
// is) and its config. Extra environment entries are added to the host's.
// The host's log, and so the plugin's, goes to log.
func StartHost(path, plugin, config string, log io.Writer, env ...string) (*Host, error) {
	cmd := exec.Command(path, "--plugin", plugin, "--config", config, "--log-level", "info", "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgdogexec: start %s: %w", path, err)
	}
	return &Host{cmd: cmd, in: bufio.NewWriter(in), inc: in, out: bufio.NewReader(out)}, nil
}

// Close ends the host (stdin closed) and waits for it.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inc.Close()
	return h.cmd.Wait()
}

// Route sends one case line and reads the host's answer.
func (h *Host) Route(shards int, c Call) (Decision, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := strconv.FormatUint(h.next, 10)
	h.in.WriteString(caseLine(id, shards, c))
	if err := h.in.Flush(); err != nil {
		return Decision{}, fmt.Errorf("pgdogexec: host: %w", err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		return Decision{}, fmt.Errorf("pgdogexec: host answered nothing for %q: %w", c.SQL, err)
	}
	f := strings.Split(strings.TrimRight(line, "\n"), "\t")
	if len(f) < 3 || f[0] != id {
		return Decision{}, fmt.Errorf("pgdogexec: host answered %q to case %s", line, id)
	}
	return parseAnswer(f[1:])
}

// caseLine writes pgdog-host's case format: id, shards, flags, SQL in hex,
// format codes, then each parameter in hex (~ NULL). The flags say what
// PgDog knows of the request and of the cluster; the host fills the ABI's
// flags from them as PgDog does.
func caseLine(id string, shards int, c Call) string {
	var b strings.Builder
	flags := ""
	if c.Write {
		flags += "w"
	}
	if c.InTx {
		flags += "t"
	}
	switch {
	case c.NoBind:
		flags += "d"
	case c.Simple:
		flags += "q"
	}
	flags += "P" // a primary per shard, no replicas

	fmt.Fprintf(&b, "%s\t%d\t%s\t%s\t", id, shards, flags, hex.EncodeToString([]byte(c.SQL)))
	if len(c.Formats) == 0 {
		b.WriteString("-")
	}
	for i, f := range c.Formats {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(f)))
	}
	for _, p := range c.Params {
		b.WriteByte('\t')
		if p == nil {
			b.WriteByte('~')
		} else {
			b.WriteString(hex.EncodeToString(p))
		}
	}
	b.WriteByte('\n')
	return b.String()
}

func parseAnswer(f []string) (Decision, error) {
	rest := strings.Join(f[1:], "\t")
	switch f[0] {
	case "NOCALL":
		return Decision{Kind: NoCall, Note: rest}, nil
	case "PARSE_ERROR":
		return Decision{Kind: ParseError, Note: rest}, nil
	case "BAD_CASE":
		return Decision{}, fmt.Errorf("pgdogexec: host refused the case: %s", rest)
	}
	d := Decision{Write: f[1] == "write"}
	if len(f) > 2 {
		d.Note = strings.Join(f[2:], "\t")
	}
	switch f[0] {
	case "ALL":
		d.Kind = All
	case "UNKNOWN":
		d.Kind = Unknown
	case "BLOCKED":
		d.Kind = Blocked
	default:
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 {
			return Decision{}, fmt.Errorf("pgdogexec: host answered shard %q", f[0])
		}
		d.Kind, d.Shard = Shard, n
	}
	return d, nil
}
