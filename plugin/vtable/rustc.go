package main

import (
	"bytes"
	"debug/elf"
)

// hostRustcVersion finds the string PgDog compares with rustc_version():
// its own `rustc --version`. rustc writes "rustc version X" into the
// .comment section of every binary it links (strip keeps .comment), so the
// host executable says which compiler built it; override, when not empty,
// wins. It returns the version ("" when not found) and, for the log, where
// it came from or how to fix its absence.
func hostRustcVersion(override string) (version, how string) {
	if override != "" {
		return override, envRustc
	}
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return "", "cannot read the host executable to learn PgDog's rustc version (" + err.Error() + "); set " + envRustc + " to the output of `rustc --version` of the compiler PgDog was built with, or PgDog skips the plugin"
	}
	defer f.Close()
	if v, ok := rustcFromComment(f); ok {
		return v, "the .comment section of /proc/self/exe"
	}
	return "", "the host executable names no rustc in its .comment section (is it PgDog?); set " + envRustc + " to the output of `rustc --version` of the compiler PgDog was built with, or PgDog skips the plugin"
}

// rustcFromComment returns "rustc X" for the first "rustc version X" entry
// of f's .comment section (NUL-separated strings).
func rustcFromComment(f *elf.File) (string, bool) {
	sec := f.Section(".comment")
	if sec == nil {
		return "", false
	}
	data, err := sec.Data()
	if err != nil {
		return "", false
	}
	return rustcFromCommentData(data)
}

func rustcFromCommentData(data []byte) (string, bool) {
	const prefix = "rustc version "
	for _, s := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(s), []byte(prefix)); ok && len(v) > 0 {
			return "rustc " + string(v), true
		}
	}
	return "", false
}
