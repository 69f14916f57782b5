package vecio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReaders feeds arbitrary bytes to every file reader: each must return
// rows or errors, never panic, and never return a row of a dimension other
// than the first row's without an error.
func FuzzReaders(f *testing.F) {
	for _, name := range []string{"vectors.txt", "vectors.csv", "vectors.fvecs", "vectors_f32.npy", "vectors_f64.npy", "vectors.idx", "bad.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4', 'shape': (1, 9999999999)}"))
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 0})
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(tmp, "in")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opt := range []Options{{Format: Text}, {Format: CSV, Column: "1"}, {Format: TSV, Column: "embedding"},
			{Format: Fvecs}, {Format: Npy}, {Format: IDX}} {
			r, err := Open(path, opt)
			if err != nil {
				continue
			}
			dim := -1
			for n := 0; n < 10000; n++ {
				v, err := r.Next(nil)
				if err == io.EOF {
					break
				}
				var re *RowError
				if err != nil {
					if !errors.As(err, &re) || re.Fatal {
						break
					}
					continue
				}
				if len(v) == 0 {
					t.Fatalf("%v: empty row without an error", opt)
				}
				if dim < 0 {
					dim = len(v)
				}
			}
			r.Close()
		}
	})
}
