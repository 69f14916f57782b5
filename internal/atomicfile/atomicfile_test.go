package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The new file's mode is 0666 masked by the umask, for several umasks.
func TestWriteFileUmask(t *testing.T) {
	dir := t.TempDir()
	for _, mask := range []int{0o022, 0o002, 0o077, 0o027} {
		old := syscall.Umask(mask)
		p := filepath.Join(dir, "f")
		err := WriteFile(p, []byte("x"))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := st.Mode().Perm(), os.FileMode(0o666&^mask); got != want {
			t.Errorf("umask %03o: mode %03o, want %03o", mask, got, want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	tests := []struct {
		path, want string
	}{
		{filepath.Join(dir, "ok.json"), ""},
		{filepath.Join(dir, "nope", "c.json"), "write " + filepath.Join(dir, "nope", "c.json") + ": directory " + filepath.Join(dir, "nope") + " does not exist (create it first)"},
		{dir, "is a directory; give a file name"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		tests = append(tests, struct{ path, want string }{filepath.Join(ro, "c.json"), "write " + filepath.Join(ro, "c.json") + ": permission denied"})
	}
	for _, tt := range tests {
		err := CheckDir(tt.path)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.path, err, tt.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("CheckDir left files: %v", ents)
	}
}
