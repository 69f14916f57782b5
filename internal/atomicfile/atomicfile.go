// Package atomicfile writes files the way users expect of a command-line
// tool: readers see the old file or the complete new one (a temporary file
// in the same directory, renamed over the target), and the new file gets
// the permissions any other tool would give it (0666 masked by the umask,
// and by a default ACL where there is one).
//
// The temporary file is opened with O_CREATE|O_EXCL and mode 0666, so the
// kernel applies the umask itself: os.CreateTemp creates 0600 files, and
// reading the umask to chmod afterwards would need syscall.Umask, which
// changes it for every thread of the process while it is read.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Create opens a new temporary file next to path for writing, with mode
// 0666 before the umask. Write to it, then call Commit (or Abort).
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for range 100 {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		tmp := filepath.Join(dir, "."+base+"."+hex.EncodeToString(r[:])+".partial")
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			// The temporary name means nothing to the user: name the
			// file they asked for.
			return nil, &fs.PathError{Op: "write", Path: path, Err: unwrapPath(err)}
		}
		return &File{File: f, path: path}, nil
	}
	return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("cannot find an unused temporary name in " + dir)}
}

// File is a temporary file that becomes path on Commit.
type File struct {
	*os.File
	path string
	done bool
}

// Path is the file the temporary file will become.
func (f *File) Path() string { return f.path }

// Commit syncs and closes the temporary file and renames it to the target.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.File.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.File.Name())
		return &fs.PathError{Op: "write", Path: f.path, Err: unwrapPath(err)}
	}
	return nil
}

// Abort closes and removes the temporary file; after Commit it does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically (see the package comment).
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return &fs.PathError{Op: "write", Path: path, Err: unwrapPath(err)}
	}
	return f.Commit()
}

// CheckDir reports, before any long work, whether a file can be created at
// path: its directory must exist and be writable. The error names path as
// the user gave it.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &fs.PathError{Op: "write", Path: path, Err: errors.New("directory " + dir + " does not exist (create it first)")}
	case err != nil:
		return &fs.PathError{Op: "write", Path: path, Err: unwrapPath(err)}
	case !st.IsDir():
		return &fs.PathError{Op: "write", Path: path, Err: errors.New(dir + " is not a directory")}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return &fs.PathError{Op: "write", Path: path, Err: errors.New("is a directory; give a file name")}
	}
	// Try it: permission bits, ACLs, read-only mounts and quotas all
	// decide, and only creating a file asks all of them.
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.Abort()
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
