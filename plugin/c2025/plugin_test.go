package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestLayout holds cgo's view of the ABI types against ABI.md section 1.
func TestLayout(t *testing.T) {
	want := map[string]uintptr{
		"Parameter": 24, "Parameter.data": 8, "Parameter.format": 16,
		"Query": 32, "Query.query": 8, "Query.num_parameters": 16, "Query.parameters": 24,
		"Route": 24, "Route.shard": 4, "Route.num_order_by": 8, "Route.order_by": 16,
		"Error": 32, "Error.code": 8, "Error.message": 16, "Error.detail": 24,
		"Output": 48, "Output.output": 8, "RoutingOutput": 40,
		"DatabaseConfig": 24, "DatabaseConfig.role": 4, "DatabaseConfig.host": 8, "DatabaseConfig.port": 16,
		"Config": 32, "Config.databases": 8, "Config.name": 16, "Config.shards": 24,
		"CopyInput": 32, "CopyInput.data": 8, "CopyInput.delimiter": 16, "CopyInput.has_headers": 20,
		"CopyInput.sharding_column": 24,
		"Input":                     72, "Input.input_type": 32, "Input.input": 40, "RoutingInput": 32,
	}
	got := layout()
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s = %d, want %d (present %v)", name, g, w, ok)
		}
	}
	if len(got) != len(want) {
		t.Errorf("layout reports %d entries, the test checks %d", len(got), len(want))
	}
}

func TestInternTable(t *testing.T) {
	// Room for exactly three strings: "22000", the message and "22P02".
	max := len("22000") + 1 + len("expected 3 dimensions, not 2") + 1 + len("22P02") + 1
	tab := newInternTable(max)
	e := tab.error("22000", "expected 3 dimensions, not 2", "")
	if goString(e.severity) != "ERROR" || goString(e.code) != "22000" ||
		goString(e.message) != "expected 3 dimensions, not 2" || goString(e.detail) != "" {
		t.Fatalf("error strings: %q %q %q %q", goString(e.severity), goString(e.code), goString(e.message), goString(e.detail))
	}
	// The same strings come back as the same C pointers: nothing new is made.
	e2 := tab.error("22000", "expected 3 dimensions, not 2", "")
	if e2 != e || tab.len() != 2 {
		t.Fatalf("re-interning allocated: %v vs %v, %d strings", e2, e, tab.len())
	}
	// Fill the table: one more short string fits, then the fallbacks take over.
	e3 := tab.error("22P02", "malformed vector literal", "at offset 3")
	if goString(e3.code) != "22P02" || goString(e3.message) != genericMessage || goString(e3.detail) != "" {
		t.Fatalf("full table: %q %q %q", goString(e3.code), goString(e3.message), goString(e3.detail))
	}
	e4 := tab.error("42P01", "other", "")
	if goString(e4.code) != "XX000" || goString(e4.message) != genericMessage {
		t.Fatalf("full table, new code: %q %q", goString(e4.code), goString(e4.message))
	}
	for i := range 100 {
		tab.error(fmt.Sprint(i), fmt.Sprint("message ", i), fmt.Sprint("detail ", i))
	}
	if n, b := tab.len(), tab.size(); n != 3 || b != max {
		t.Fatalf("table holds %d strings, %d bytes; want 3 strings, %d bytes", n, b, max)
	}
}

// TestInternTableBytes: the bound is on bytes, not strings: a few long
// messages cannot pin more than the bound, and a message longer than the
// room left is not copied at all.
func TestInternTableBytes(t *testing.T) {
	tab := newInternTable(4096)
	long := strings.Repeat("x", 1<<20)
	for i := range 8 {
		e := tab.error("22P02", fmt.Sprint(i)+long, "")
		if goString(e.message) != genericMessage {
			t.Fatalf("a 1 MiB message was interned in a 4 KiB table")
		}
	}
	for i := range 1000 {
		tab.error("22P02", fmt.Sprintf("message %d %s", i, strings.Repeat("y", 100)), "")
	}
	if b := tab.size(); b > 4096 {
		t.Fatalf("table holds %d bytes past its bound of 4096", b)
	}
	if tab.len() < 30 {
		t.Fatalf("only %d strings in 4096 bytes", tab.len())
	}
}
